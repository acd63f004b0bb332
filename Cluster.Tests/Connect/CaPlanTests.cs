using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cluster.Contracts.State;
using Cluster.Server.Connect;
using Cluster.Server.Query;
using Cluster.Server.State;
using Cluster.Tests.Server;

namespace Cluster.Tests.Connect;

/// <summary>The CA's decisions (bootstrap, configure and rotate, prune, expiry) and their one Raft write.</summary>
public sealed class CaPlanTests
{
    private const string ClusterId = "11111111-2222-3333-4444-555555555555";
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
    private static int _serial;

    private static byte[] Serial() => [0x01, .. BitConverter.GetBytes(Interlocked.Increment(ref _serial))];

    private static CaState Bootstrapped() => CaPlan.Bootstrap(CaDefaults.Config(ClusterId), Now, Serial());

    private static CaConfig With(Action<CaConfig> change)
    {
        var config = CaDefaults.Config(ClusterId);
        change(config);
        return config;
    }

    private static string Csr(SpiffeId id)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={id.Service}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(id.ToUri());
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSigningRequestPem();
    }

    private static string Leaf(CaState ca, string service = "web")
    {
        var root = ca.Roots.Single(r => r.Active);
        var id = new SpiffeId(ca.TrustDomain, "default", "dc1", service);
        return CertificateAuthority.SignLeaf(new CaKeyPair(root.RootCert, root.SigningKey), Csr(id), id, Now, TimeSpan.FromHours(72), Serial()) + string.Concat(root.IntermediateCerts);
    }

    [Fact]
    public void Bootstrap_makes_one_active_ec_root_for_the_cluster_trust_domain_with_consul_defaults()
    {
        var ca = Bootstrapped();

        Assert.Equal($"{ClusterId}.consul", ca.TrustDomain);
        var root = Assert.Single(ca.Roots);
        Assert.True(root.Active);
        Assert.Equal(("ec", 256), (root.PrivateKeyType, root.PrivateKeyBits));
        Assert.Equal(ClusterId, root.ExternalTrustDomain);
        Assert.Matches("^([0-9a-f]{2}:){19}[0-9a-f]{2}$", root.Id);
        Assert.Equal(Now.AddHours(87600).ToUnixTimeSeconds(), root.NotAfterUnix);
        Assert.Equal((72 * 3600L, 8760 * 3600L, 50d, 0), (ca.Config.LeafCertTtlS, ca.Config.IntermediateCertTtlS, ca.Config.CsrMaxPerSecond, ca.Config.CsrMaxConcurrent));
        Assert.Equal("OK", Openssl.Verify(root.RootCert, Leaf(ca), null, Now.AddHours(1)));
    }

    [Fact]
    public void A_config_change_without_a_new_key_keeps_the_root()
    {
        var ca = Bootstrapped();
        var change = CaPlan.Configure(ca, With(c => c.LeafCertTtlS = 24 * 3600), "", "", Now, Serial);

        Assert.False(change.Rotated);
        Assert.Equal(ca.Roots, change.Next.Roots);
        Assert.Equal(24 * 3600, change.Next.Config.LeafCertTtlS);
    }

    [Fact]
    public void A_new_key_type_rotates_old_leaves_stay_valid_and_new_leaves_verify_for_peers_holding_either_root()
    {
        var ca = Bootstrapped();
        var oldLeaf = Leaf(ca);
        var change = CaPlan.Configure(ca, With(c => (c.PrivateKeyType, c.PrivateKeyBits) = ("rsa", 2048)), "", "", Now.AddMinutes(5), Serial);

        Assert.True(change.Rotated);
        var (old, fresh) = (change.Next.Roots.Single(r => !r.Active), change.Next.Roots.Single(r => r.Active));
        Assert.Equal(ca.Roots[0].Id, old.Id);
        Assert.Equal(Now.AddMinutes(5).ToUnixTimeSeconds(), old.RotatedOutAtUnix);
        Assert.Equal(("rsa", 2048), (fresh.PrivateKeyType, fresh.PrivateKeyBits));
        var cross = Assert.Single(fresh.IntermediateCerts);

        var newLeaf = Leaf(change.Next);
        var leafOnly = Openssl.Blocks(newLeaf)[0];
        var at = Now.AddHours(1);
        var bundle = old.RootCert + fresh.RootCert;
        Assert.Equal("OK", Openssl.Verify(bundle, oldLeaf, null, at)); // old leaves against the new bundle
        Assert.Equal("OK", Openssl.Verify(bundle, leafOnly, null, at)); // new leaves against the new bundle
        Assert.Equal("OK", Openssl.Verify(old.RootCert, leafOnly, cross, at)); // a peer with only the old root, through the cross-signed cert
        Assert.NotEqual("OK", Openssl.Verify(old.RootCert, leafOnly, null, at));
        Assert.EndsWith(cross, newLeaf, StringComparison.Ordinal); // the leaf's PEM carries the cross-signed cert for such peers
    }

    [Fact]
    public void ForceWithoutCrossSigning_rotates_without_the_cross_signed_cert()
    {
        var change = CaPlan.Configure(Bootstrapped(), With(c => (c.PrivateKeyType, c.PrivateKeyBits, c.ForceWithoutCrossSigning) = ("rsa", 2048, true)), "", "", Now, Serial);

        Assert.True(change.Rotated);
        Assert.Empty(change.Next.Roots.Single(r => r.Active).IntermediateCerts);
    }

    [Fact]
    public void An_operator_key_or_root_becomes_the_active_root()
    {
        var ca = Bootstrapped();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var keyPem = key.ExportPkcs8PrivateKeyPem();

        var fromKey = CaPlan.Configure(ca, CaDefaults.Config(""), keyPem, "", Now, Serial);
        Assert.True(fromKey.Rotated);
        using (var cert = X509Certificate2.CreateFromPem(fromKey.Next.Roots.Single(r => r.Active).RootCert))
        {
            Assert.Equal(key.ExportSubjectPublicKeyInfo(), cert.GetECDsaPublicKey()!.ExportSubjectPublicKeyInfo());
        }

        var own = CertificateAuthority.CreateRoot(ca.TrustDomain, Now, TimeSpan.FromDays(365), Serial());
        var adopted = CaPlan.Configure(ca, CaDefaults.Config(ClusterId), own.PrivateKeyPem, own.CertificatePem, Now, Serial);
        Assert.True(adopted.Rotated);
        Assert.Equal(own.CertificatePem, adopted.Next.Roots.Single(r => r.Active).RootCert);

        // The same root again is no rotation.
        Assert.False(CaPlan.Configure(adopted.Next, CaDefaults.Config(ClusterId), own.PrivateKeyPem, own.CertificatePem, Now, Serial).Rotated);
    }

    public static TheoryData<string, Func<CaConfig>, string, string> Refusals()
    {
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var own = CertificateAuthority.CreateRoot("x.consul", Now, TimeSpan.FromDays(365), [1]);
        var shortLived = CertificateAuthority.CreateRoot("x.consul", Now, TimeSpan.FromHours(2), [2]);
        var leafCa = CertificateAuthority.SignLeaf(own, Csr(new SpiffeId("x.consul", "default", "dc1", "web")), new SpiffeId("x.consul", "default", "dc1", "web"), Now, TimeSpan.FromDays(30), [3]);
        return new()
        {
            { "provider", () => With(c => c.Provider = "vault"), "", "unknown CA provider" },
            { "cluster id", () => With(c => c.ClusterId = "99999999-2222-3333-4444-555555555555"), "", "ClusterID cannot change" },
            { "leaf too short", () => With(c => c.LeafCertTtlS = 1800), "", "LeafCertTTL 30m0s is out of range" },
            { "leaf too long", () => With(c => c.LeafCertTtlS = 8761 * 3600L), "", "is out of range" },
            { "intermediate", () => With(c => c.IntermediateCertTtlS = 100 * 3600), "", "at least 3x LeafCertTTL" },
            { "root", () => With(c => c.RootCertTtlS = c.IntermediateCertTtlS), "", "must be longer than IntermediateCertTTL" },
            { "ec bits", () => With(c => c.PrivateKeyBits = 384), "", "not supported for ec keys" },
            { "rsa bits", () => With(c => (c.PrivateKeyType, c.PrivateKeyBits) = ("rsa", 1024)), "", "not supported for rsa keys" },
            { "key type", () => With(c => c.PrivateKeyType = "ed25519"), "", "PrivateKeyType \"ed25519\" is not supported" },
            { "rate", () => With(c => c.CsrMaxPerSecond = -1), "", "CSRMaxPerSecond" },
            { "concurrency", () => With(c => c.CsrMaxConcurrent = -1), "", "CSRMaxConcurrent" },
            { "root without key", () => CaDefaults.Config(""), "|" + own.CertificatePem, "RootCert needs its PrivateKey" },
            { "not a key", () => CaDefaults.Config(""), "garbage", "PrivateKey is not a PEM private key" },
            { "broken key", () => CaDefaults.Config(""), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "PrivateKey cannot be read" },
            { "mismatched key", () => CaDefaults.Config(""), other.ExportPkcs8PrivateKeyPem() + "|" + own.CertificatePem, "PrivateKey is not the key of RootCert" },
            { "not a CA", () => CaDefaults.Config(""), own.PrivateKeyPem + "|" + leafCa, "RootCert is not a CA certificate" },
            { "short root", () => CaDefaults.Config(""), shortLived.PrivateKeyPem + "|" + shortLived.CertificatePem, "it must be valid now and outlive a leaf" },
            { "not a cert", () => CaDefaults.Config(""), own.PrivateKeyPem + "|nonsense", "RootCert is not a PEM certificate" },
        };
    }

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Bad_configurations_are_refused_with_the_reason(string what, Func<CaConfig> config, string keyAndRoot, string expected)
    {
        var parts = keyAndRoot.Split('|');
        var error = Assert.Throws<CaConfigException>(() => CaPlan.Configure(Bootstrapped(), config(), parts[0], parts.Length > 1 ? parts[1] : "", Now, Serial));
        Assert.True(error.Message.Contains(expected, StringComparison.Ordinal), $"{what}: {error.Message}");
    }

    [Fact]
    public void Rotated_out_roots_are_pruned_after_twice_the_leaf_ttl()
    {
        var rotated = CaPlan.Configure(Bootstrapped(), With(c => (c.PrivateKeyType, c.PrivateKeyBits) = ("rsa", 2048)), "", "", Now, Serial).Next;
        var keep = TimeSpan.FromHours(144);

        Assert.Null(CaPlan.Prune(rotated, Now + keep - TimeSpan.FromSeconds(1)));
        var pruned = CaPlan.Prune(rotated, Now + keep);
        Assert.NotNull(pruned);
        Assert.True(Assert.Single(pruned.Roots).Active);
        Assert.Null(CaPlan.Prune(Bootstrapped(), Now.AddYears(20))); // an active root is never pruned
    }

    [Fact]
    public void Expiry_is_warned_of_a_tenth_of_the_lifetime_ahead_and_said_plainly_once_past()
    {
        var ca = Bootstrapped(); // ten years
        var notAfter = DateTimeOffset.FromUnixTimeSeconds(ca.Roots[0].NotAfterUnix);

        Assert.Null(CaPlan.ExpiryWarning(ca, notAfter.AddDays(-366)));
        Assert.Contains("expires in", CaPlan.ExpiryWarning(ca, notAfter.AddDays(-364)), StringComparison.Ordinal);
        Assert.Contains("has expired", CaPlan.ExpiryWarning(ca, notAfter.AddSeconds(1)), StringComparison.Ordinal);
    }

    [Fact]
    public void The_store_writes_the_ca_by_compare_and_set_snapshots_it_and_never_serves_a_signing_key()
    {
        var store = new StateStoreHarness();
        var ca = Bootstrapped();
        Assert.True(store.Apply(new Command { Ca = new CaSet { State = ca, CasIndex = 0 } }).Ok);
        Assert.False(store.Apply(new Command { Ca = new CaSet { State = ca, CasIndex = 0 } }).Ok); // a second bootstrap loses
        var written = store.State.CaGet().Result!;
        Assert.Equal((1UL, 1UL), (written.Config.CreateIndex, written.Config.ModifyIndex));
        Assert.Equal(1UL, written.Roots[0].CreateIndex);

        var rotated = CaPlan.Configure(written, With(c => (c.PrivateKeyType, c.PrivateKeyBits) = ("rsa", 2048)), "", "", Now, Serial).Next;
        Assert.False(store.Apply(new Command { Ca = new CaSet { State = rotated, CasIndex = 7 } }).Ok); // planned from another version
        Assert.True(store.Apply(new Command { Ca = new CaSet { State = rotated, CasIndex = 1 } }).Ok);
        var after = store.State.CaGet().Result!;
        Assert.Equal(1UL, after.Roots.Single(r => !r.Active).CreateIndex);
        Assert.Equal(4UL, after.Roots.Single(r => r.Active).CreateIndex);

        // Snapshot round trip.
        using var stream = new MemoryStream();
        store.Store.WriteSnapshot(stream);
        var restored = new StateStore();
        restored.Restore(stream.ToArray());
        Assert.Equal(after, restored.Current.CaGet().Result);
        Assert.Equal(store.State.TableIndex(Tables.Ca), restored.Current.TableIndex(Tables.Ca));

        // What leaves a server has no key, in process and on the wire.
        var query = new CaQuery();
        Assert.All(query.Run(store.State).Result!.Roots, r => Assert.Empty(r.SigningKey));
        var reply = query.RunEncoded(store.State).Result;
        Assert.All(query.Decode(QueryReply.Parser.ParseFrom(Google.Protobuf.MessageExtensions.ToByteArray(reply)))!.Roots, r => Assert.Empty(r.SigningKey));
        Assert.NotEmpty(store.State.CaGet().Result!.Roots[0].SigningKey);
    }

    public static TheoryData<string, Action<CaState>> UnusableStates => new()
    {
        { "no config", s => s.Config = null },
        { "no trust domain", s => s.TrustDomain = "" },
        { "no active root", s => s.Roots[0].Active = false },
        { "two active roots", s => s.Roots.Add(s.Roots[0].Clone()) },
        { "no signing key", s => s.Roots[0].SigningKey = "" },
        { "no certificate", s => s.Roots[0].RootCert = "" },
    };

    [Theory]
    [MemberData(nameof(UnusableStates))]
    public void The_store_refuses_a_ca_that_could_not_sign_and_changes_nothing(string what, Action<CaState> damage)
    {
        var store = new StateStoreHarness();
        var state = Bootstrapped();
        damage(state);
        var result = store.Apply(new Command { Ca = new CaSet { State = state } });

        Assert.False(result.Ok, what);
        Assert.NotEmpty(result.Refused);
        Assert.Null(store.State.CaGet().Result);
        Assert.Equal(0UL, store.State.TableIndex(Tables.Ca));
    }
}
