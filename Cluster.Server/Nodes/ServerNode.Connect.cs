using System.Security.Cryptography;
using Cluster.Contracts.State;
using Cluster.Raft.Core;
using Cluster.Server.Connect;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Cluster.Server.Nodes;

/// <summary>
/// The Connect CA on the servers: the leader makes the first root, prunes rotated-out roots and
/// warns of expiry (<see cref="CaPlan"/> decides, one compare-and-set Raft write applies); leaf
/// signing and configuration changes run on the leader (followers pass them on), off the Raft
/// loop, signing under Consul's CSR limits (<see cref="CsrAdmission"/>).
/// </summary>
public sealed partial class ServerNode
{
    private static readonly TimeSpan ExpiryWarningEvery = TimeSpan.FromHours(24);
    private CsrAdmission? _csr;
    private DateTimeOffset _lastExpiryWarning = DateTimeOffset.MinValue;

    private CsrAdmission Csr => LazyInitializer.EnsureInitialized(ref _csr, () => new CsrAdmission(Options.Time));

    /// <summary>A leader's CA duties on each pass: create the CA once, prune roots past their keep, warn of expiry.</summary>
    private async Task MaintainCaAsync(CancellationToken cancellationToken)
    {
        var now = Options.Time.GetUtcNow();
        if (Store.Current.CaGet().Result is not { } ca)
        {
            var config = Options.ConnectCa?.Clone() ?? CaDefaults.Config("");
            if (config.ClusterId.Length == 0)
            {
                config.ClusterId = Guid.NewGuid().ToString();
            }

            var state = CaPlan.Bootstrap(config, now, NewSerial());
            var (_, result) = await ApplyAsync(new Command { Ca = new CaSet { State = state, CasIndex = 0 } }, cancellationToken).ConfigureAwait(false);
            if (result.Ok)
            {
                LogCaInitialized(_logger, state.TrustDomain, state.Roots[0].Id);
            }

            return;
        }

        if (CaPlan.Prune(ca, now) is { } pruned)
        {
            await ApplyAsync(new Command { Ca = new CaSet { State = pruned, CasIndex = ca.Config.ModifyIndex } }, cancellationToken).ConfigureAwait(false);
        }

        if (CaPlan.ExpiryWarning(ca, now) is { } warning && now - _lastExpiryWarning >= ExpiryWarningEvery)
        {
            _lastExpiryWarning = now;
            LogCaExpiry(_logger, warning);
        }
    }

    /// <summary>Signs a service's leaf from its agent's CSR, on the leader. Refusals: <see cref="InvalidRequestException"/> (the CSR), <see cref="RateLimitedException"/>, <see cref="NoLeaderException"/>.</summary>
    public Task<SignReply> SignAsync(SignRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return OnLeaderAsync(
            async () =>
            {
                // A new leader may not have applied its predecessor's last CA write yet: sign with the root as committed.
                await ReadBarrierAsync(Consistency.Default, cancellationToken).ConfigureAwait(false);
                return SignHere(request);
            },
            (client, options) => client.SignAsync(new SignRequest { Csr = request.Csr, Service = request.Service }, options).ResponseAsync,
            cancellationToken);
    }

    /// <summary>Applies a new CA configuration on the leader, rotating the root when it asks for a new key.</summary>
    public Task<CaConfigureReply> ConfigureCaAsync(CaConfigureRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return OnLeaderAsync(
            () => ConfigureHereAsync(request, cancellationToken),
            (client, options) => client.ConfigureCaAsync(new CaConfigureRequest { Config = request.Config, PrivateKey = request.PrivateKey, RootCert = request.RootCert }, options).ResponseAsync,
            cancellationToken);
    }

    private SignReply SignHere(SignRequest request)
    {
        var state = Store.Current;
        var ca = state.CaGet().Result ?? throw new NoLeaderException("the Connect CA is not initialized yet");
        if (request.Service.Length == 0)
        {
            throw new InvalidRequestException("a leaf needs the service it is for");
        }

        var root = ca.Roots.Single(r => r.Active);
        var expected = new SpiffeId(ca.TrustDomain, "default", Options.Datacenter, request.Service);
        using var admitted = Csr.Admit(ca.Config.CsrMaxPerSecond, ca.Config.CsrMaxConcurrent);
        var now = Options.Time.GetUtcNow();
        var serial = NewSerial();
        IssuedCertificate leaf;
        try
        {
            leaf = CertificateAuthority.IssueLeaf(Signer(root), request.Csr, expected, now, TimeSpan.FromSeconds(ca.Config.LeafCertTtlS), serial);
        }
        catch (CsrException e)
        {
            throw new InvalidRequestException(e.Message);
        }

        return new SignReply
        {
            CertPem = leaf.Pem + string.Concat(root.IntermediateCerts),
            SerialNumber = CertificateAuthority.ColonHex(serial),
            Service = request.Service,
            ServiceUri = expected.ToString(),
            ValidAfterUnix = leaf.NotBefore.ToUnixTimeSeconds(),
            ValidBeforeUnix = leaf.NotAfter.ToUnixTimeSeconds(),
            Index = state.Index,
            RootId = root.Id,
        };
    }

    private async Task<CaConfigureReply> ConfigureHereAsync(CaConfigureRequest request, CancellationToken cancellationToken)
    {
        await ReadBarrierAsync(Consistency.Default, cancellationToken).ConfigureAwait(false);
        var ca = Store.Current.CaGet().Result ?? throw new NoLeaderException("the Connect CA is not initialized yet");
        CaChange change;
        try
        {
            change = CaPlan.Configure(ca, request.Config ?? throw new InvalidRequestException("missing CA configuration"), request.PrivateKey, request.RootCert, Options.Time.GetUtcNow(), NewSerial);
        }
        catch (CaConfigException e)
        {
            throw new InvalidRequestException(e.Message);
        }

        var (index, result) = await ApplyAsync(new Command { Ca = new CaSet { State = change.Next, CasIndex = ca.Config.ModifyIndex } }, cancellationToken).ConfigureAwait(false);
        if (!result.Ok)
        {
            throw new NoLeaderException(result.Refused.Length > 0 ? result.Refused : "the CA changed while this configuration was planned; try again");
        }

        if (change.Rotated)
        {
            var active = change.Next.Roots.Single(r => r.Active);
            LogCaRotated(_logger, active.Id);
        }

        return new CaConfigureReply { Index = index, Rotated = change.Rotated };
    }

    /// <summary>Runs <paramref name="here"/> on the leader, or passes the request to it once (the leader's answer, refusals included, comes back as this server's).</summary>
    private async Task<T> OnLeaderAsync<T>(Func<Task<T>> here, Func<ServerRpc.ServerRpcClient, CallOptions, Task<T>> there, CancellationToken cancellationToken)
    {
        var raft = await RaftStarted.WaitAsync(cancellationToken).ConfigureAwait(false);
        var stats = raft.Stats;
        if (stats?.Role == RaftRole.Leader)
        {
            return await here().ConfigureAwait(false);
        }

        if (stats is null || stats.LeaderAddress.Length == 0)
        {
            throw new NoLeaderException("No cluster leader");
        }

        using var deadline = new Rpc.RpcDeadline(TimeSpan.FromSeconds(10), Options.Time, cancellationToken);
        try
        {
            return await there(Channel(stats.LeaderAddress), new CallOptions(cancellationToken: deadline.Token)).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            throw e.StatusCode switch
            {
                StatusCode.InvalidArgument => new InvalidRequestException(e.Status.Detail),
                StatusCode.ResourceExhausted => new RateLimitedException(e.Status.Detail),
                _ => new NoLeaderException($"the leader at {stats.LeaderAddress} did not answer: {e.Status.Detail}"),
            };
        }
    }

    internal Task<SignReply> ServeSignAsync(SignRequest request, ServerCallContext context) =>
        Served(LeaderOnly<SignReply>(request.Forward) ?? SignAsync(request, context.CancellationToken));

    internal Task<CaConfigureReply> ServeConfigureCaAsync(CaConfigureRequest request, ServerCallContext context) =>
        Served(LeaderOnly<CaConfigureReply>(request.Forward) ?? ConfigureCaAsync(request, context.CancellationToken));

    /// <summary>A request another server passed on must not travel again: refused unless this server leads.</summary>
    private Task<T>? LeaderOnly<T>(bool forward) =>
        forward || Raft?.Stats?.Role == RaftRole.Leader ? null : Task.FromException<T>(new NoLeaderException("not the leader"));

    /// <summary>
    /// This thread's loaded signer for the active root (parsing the CA's PEM per signing cost as
    /// much as the rest of it); a key object is never shared between threads signing at once.
    /// </summary>
    private static SigningCa Signer(CaRoot root)
    {
        if (t_signer is not { } cached || cached.RootId != root.Id)
        {
            t_signer?.Signer.Dispose();
            cached = (root.Id, SigningCa.Load(new CaKeyPair(root.RootCert, root.SigningKey)));
            t_signer = cached;
        }

        return cached.Signer;
    }

    [ThreadStatic]
    private static (string RootId, SigningCa Signer)? t_signer;

    /// <summary>A positive 128-bit serial from the system's CSPRNG: serials must never repeat or be guessable.</summary>
    private static byte[] NewSerial()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x01);
        return serial;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connect CA initialized: trust domain {TrustDomain}, root {RootId}")]
    private static partial void LogCaInitialized(ILogger logger, string trustDomain, string rootId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connect CA root rotated: {RootId} is active")]
    private static partial void LogCaRotated(ILogger logger, string rootId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connect CA: {Warning}")]
    private static partial void LogCaExpiry(ILogger logger, string warning);
}
