using Cluster.Contracts;
using Cluster.Contracts.State;

namespace Cluster.Server.Connect;

/// <summary>Consul's built-in CA defaults, each kept unless a reason is written beside it.</summary>
public static class CaDefaults
{
    public const string Provider = "consul";
    public static readonly TimeSpan LeafCertTtl = TimeSpan.FromHours(72);
    public static readonly TimeSpan IntermediateCertTtl = TimeSpan.FromHours(8760);
    public static readonly TimeSpan RootCertTtl = TimeSpan.FromHours(87600);
    public static readonly TimeSpan MinLeafCertTtl = TimeSpan.FromHours(1);
    public static readonly TimeSpan MaxLeafCertTtl = TimeSpan.FromHours(8760);
    public const string PrivateKeyType = "ec";
    public const int PrivateKeyBits = 256;
    public const double CsrMaxPerSecond = 50;
    public const int CsrMaxConcurrent = 0;

    public static CaConfig Config(string clusterId) => new()
    {
        ClusterId = clusterId,
        Provider = Provider,
        LeafCertTtlS = (long)LeafCertTtl.TotalSeconds,
        IntermediateCertTtlS = (long)IntermediateCertTtl.TotalSeconds,
        RootCertTtlS = (long)RootCertTtl.TotalSeconds,
        PrivateKeyType = PrivateKeyType,
        PrivateKeyBits = PrivateKeyBits,
        CsrMaxPerSecond = CsrMaxPerSecond,
        CsrMaxConcurrent = CsrMaxConcurrent,
    };
}

/// <summary>A planned CA state and whether it makes a new root active.</summary>
public sealed record CaChange(CaState Next, bool Rotated);

/// <summary>
/// The CA's decisions as pure functions of the current state, the request and the time: the
/// first root, a configuration change (and the rotation it may mean, cross-signed by the old key),
/// pruning of roots no leaf can still chain to, and the expiry warning. The leader applies what
/// these return as one compare-and-set Raft write (<see cref="CaSet"/>).
/// </summary>
public static class CaPlan
{
    public const string RootName = "Cluster CA Root Cert";

    /// <summary>The CA a new cluster starts with: its configuration and one active root (made, or the operator's).</summary>
    public static CaState Bootstrap(CaConfig config, DateTimeOffset now, byte[] serial, CaKeyPair? adopted = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (Invalid(config) is { } why)
        {
            throw new CaConfigException(why);
        }

        var trustDomain = SpiffeId.TrustDomainOf(config.ClusterId);
        var pair = adopted ?? NewRoot(config, trustDomain, now, serial);
        var state = new CaState { Config = config.Clone(), TrustDomain = trustDomain };
        state.Roots.Add(Root(pair, config.ClusterId, active: true));
        return state;
    }

    /// <summary>
    /// The CA after an operator's new configuration. A new key type or size, or a key (and root)
    /// of the operator's, makes a new root active; the old one stays listed, inactive and marked
    /// rotated out, and unless told otherwise the new root carries its certificate cross-signed
    /// by the old key, so a peer that trusts only the old root still verifies new leaves.
    /// </summary>
    public static CaChange Configure(CaState current, CaConfig requested, string privateKeyPem, string rootCertPem, DateTimeOffset now, Func<byte[]> serials)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(requested);
        ArgumentNullException.ThrowIfNull(serials);
        var config = requested.Clone();
        if (config.ClusterId.Length == 0)
        {
            config.ClusterId = current.Config.ClusterId;
        }
        else if (config.ClusterId != current.Config.ClusterId)
        {
            throw new CaConfigException($"ClusterID cannot change (it is {current.Config.ClusterId}: the trust domain every certificate names)");
        }

        if (Invalid(config) is { } why)
        {
            throw new CaConfigException(why);
        }

        if (rootCertPem.Length > 0 && privateKeyPem.Length == 0)
        {
            throw new CaConfigException("RootCert needs its PrivateKey");
        }

        var active = current.Roots.Single(r => r.Active);
        CaKeyPair? incoming = null;
        if (privateKeyPem.Length > 0)
        {
            incoming = rootCertPem.Length > 0
                ? CertificateAuthority.AdoptRoot(rootCertPem, privateKeyPem, now, TimeSpan.FromSeconds(config.LeafCertTtlS))
                : CertificateAuthority.CreateRoot(current.TrustDomain, now, TimeSpan.FromSeconds(config.RootCertTtlS), serials(), privateKeyPem);
        }
        else if (config.PrivateKeyType != active.PrivateKeyType || config.PrivateKeyBits != active.PrivateKeyBits)
        {
            incoming = NewRoot(config, current.TrustDomain, now, serials());
        }

        var next = current.Clone();
        next.Config = config;
        config.CreateIndex = current.Config.CreateIndex;
        config.ModifyIndex = current.Config.ModifyIndex;
        if (incoming is null || CertificateAuthority.Describe(incoming.CertificatePem).Id == active.Id)
        {
            return new CaChange(next, Rotated: false);
        }

        var root = Root(incoming, config.ClusterId, active: true);
        if (!config.ForceWithoutCrossSigning)
        {
            root.IntermediateCerts.Add(CertificateAuthority.CrossSign(new CaKeyPair(active.RootCert, active.SigningKey), incoming.CertificatePem, now, serials()));
        }

        foreach (var old in next.Roots.Where(r => r.Active))
        {
            old.Active = false;
            old.RotatedOutAtUnix = now.ToUnixTimeSeconds();
        }

        next.Roots.Add(root);
        return new CaChange(next, Rotated: true);
    }

    /// <summary>
    /// The CA without the inactive roots rotated out more than twice the leaf TTL ago (no leaf
    /// signed by them is still valid, nor any renewal still pending), or null when there are none.
    /// </summary>
    public static CaState? Prune(CaState current, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(current);
        var keepFor = 2 * current.Config.LeafCertTtlS;
        var expired = current.Roots.Where(r => !r.Active && r.RotatedOutAtUnix > 0 && r.RotatedOutAtUnix + keepFor <= now.ToUnixTimeSeconds()).ToList();
        if (expired.Count == 0)
        {
            return null;
        }

        var next = current.Clone();
        next.Roots.Clear();
        next.Roots.Add(current.Roots.Except(expired).Select(r => r.Clone()));
        return next;
    }

    /// <summary>
    /// A warning while the active root's remaining life is under a tenth of its lifetime or 30
    /// days (a year for the default ten-year root): time enough to rotate before leaves are cut short.
    /// </summary>
    public static string? ExpiryWarning(CaState state, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Roots.FirstOrDefault(r => r.Active) is not { } active)
        {
            return null;
        }

        var lifetime = active.NotAfterUnix - active.NotBeforeUnix;
        var left = active.NotAfterUnix - now.ToUnixTimeSeconds();
        var threshold = Math.Max(lifetime / 10, (long)TimeSpan.FromDays(30).TotalSeconds);
        if (left >= threshold)
        {
            return null;
        }

        return left <= 0
            ? $"the active CA root {active.Id} has expired: no leaf it signed verifies; rotate it (connect ca set-config with a new PrivateKey)"
            : $"the active CA root {active.Id} expires in {GoDuration.Format(TimeSpan.FromSeconds(left))} ({DateTimeOffset.FromUnixTimeSeconds(active.NotAfterUnix):u}); rotate it before then (connect ca set-config with a new PrivateKey)";
    }

    /// <summary>Why a configuration cannot stand (Consul's limits), or null when it can.</summary>
    public static string? Invalid(CaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var leaf = TimeSpan.FromSeconds(config.LeafCertTtlS);
        var intermediate = TimeSpan.FromSeconds(config.IntermediateCertTtlS);
        var root = TimeSpan.FromSeconds(config.RootCertTtlS);
        return config switch
        {
            { Provider: not CaDefaults.Provider } => $"unknown CA provider \"{config.Provider}\": only \"consul\" (the built-in CA) is supported",
            { ClusterId.Length: 0 } => "ClusterID is required",
            _ when leaf < CaDefaults.MinLeafCertTtl || leaf > CaDefaults.MaxLeafCertTtl =>
                $"LeafCertTTL {GoDuration.Format(leaf)} is out of range: it must be between {GoDuration.Format(CaDefaults.MinLeafCertTtl)} and {GoDuration.Format(CaDefaults.MaxLeafCertTtl)}",
            _ when intermediate < 3 * leaf => $"IntermediateCertTTL {GoDuration.Format(intermediate)} must be at least 3x LeafCertTTL ({GoDuration.Format(3 * leaf)})",
            _ when root <= intermediate => $"RootCertTTL {GoDuration.Format(root)} must be longer than IntermediateCertTTL {GoDuration.Format(intermediate)}",
            { PrivateKeyType: "ec", PrivateKeyBits: not 256 } => $"PrivateKeyBits {config.PrivateKeyBits} is not supported for ec keys: use 256",
            { PrivateKeyType: "rsa", PrivateKeyBits: not (2048 or 4096) } => $"PrivateKeyBits {config.PrivateKeyBits} is not supported for rsa keys: use 2048 or 4096",
            { PrivateKeyType: not ("ec" or "rsa") } => $"PrivateKeyType \"{config.PrivateKeyType}\" is not supported: use \"ec\" or \"rsa\"",
            { CsrMaxPerSecond: < 0 or double.NaN or double.PositiveInfinity } => "CSRMaxPerSecond must be a number >= 0",
            { CsrMaxConcurrent: < 0 } => "CSRMaxConcurrent must be >= 0",
            _ => null,
        };
    }

    /// <summary>A root entry for the roots list from its certificate and key.</summary>
    public static CaRoot Root(CaKeyPair pair, string clusterId, bool active)
    {
        ArgumentNullException.ThrowIfNull(pair);
        var facts = CertificateAuthority.Describe(pair.CertificatePem);
        return new CaRoot
        {
            Id = facts.Id,
            Name = RootName,
            SerialNumber = facts.SerialNumber,
            SigningKeyId = facts.SigningKeyId,
            ExternalTrustDomain = clusterId,
            NotBeforeUnix = facts.NotBefore.ToUnixTimeSeconds(),
            NotAfterUnix = facts.NotAfter.ToUnixTimeSeconds(),
            RootCert = pair.CertificatePem,
            SigningKey = pair.PrivateKeyPem,
            PrivateKeyType = facts.KeyType,
            PrivateKeyBits = facts.KeyBits,
            Active = active,
        };
    }

    private static CaKeyPair NewRoot(CaConfig config, string trustDomain, DateTimeOffset now, byte[] serial) =>
        CertificateAuthority.CreateRoot(trustDomain, now, TimeSpan.FromSeconds(config.RootCertTtlS), serial, config.PrivateKeyType == "rsa" ? config.PrivateKeyBits : 0);
}
