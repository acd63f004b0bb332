using Cluster.Agent.Connect;
using Cluster.Contracts.State;
using Cluster.Primitives;
using Cluster.Server.Connect;
using Cluster.Server.Nodes;
using Cluster.Server.Query;
using Cluster.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Tests.Connect;

/// <summary>
/// The agent's leaf cache on a manual clock, against a scripted CA that answers the two calls it
/// makes (the roots query, blocking, and Sign) with the real CA code: when it renews, that a
/// rotation makes it renew within the stagger, and that a leaf nobody asks for lapses.
/// </summary>
public sealed class LeafCertificatesTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_leaf_is_renewed_once_at_a_point_in_60_to_90_percent_of_its_life()
    {
        var time = new ManualTimeProvider(Start);
        var ca = new ScriptedCa(time);
        await using var roots = new CaRootsWatch(ca, time, NullLogger.Instance);
        await using var leaves = new LeafCertificates(ca, roots, "dc1", () => 1, time, new Random(7), NullLogger.Instance);
        var first = await leaves.WaitAsync("web", 0, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal(1, ca.Signed);
        var renewal = await NextTimerAsync(time);
        var life = first.ValidBefore - first.ValidAfter;
        Assert.InRange(renewal, first.ValidAfter + (life * 0.6), first.ValidAfter + (life * 0.9));
        time.Advance(renewal - time.GetUtcNow());
        var second = await leaves.WaitAsync("web", first.Index, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.NotEqual(first.SerialNumber, second.SerialNumber);
        Assert.NotEqual(first.PrivateKeyPem, second.PrivateKeyPem); // a fresh key each time, made here
        Assert.Equal(2, ca.Signed);
    }

    [Fact]
    public async Task A_rotation_renews_the_leaf_from_the_new_root_within_the_stagger_window()
    {
        var time = new ManualTimeProvider(Start);
        var ca = new ScriptedCa(time);
        await using var roots = new CaRootsWatch(ca, time, NullLogger.Instance);
        await using var leaves = new LeafCertificates(ca, roots, "dc1", () => 1, time, new Random(8), NullLogger.Instance);
        var first = await leaves.WaitAsync("web", 0, TimeSpan.FromSeconds(30), CancellationToken.None);
        await NextTimerAsync(time); // parked until renewal

        var newRoot = ca.Rotate();
        var stagger = await NextTimerAsync(time, before: Start + LeafRenewal.MinJitterWindow);
        time.Advance(stagger - time.GetUtcNow());
        var renewed = await leaves.WaitAsync("web", first.Index, TimeSpan.FromSeconds(30), CancellationToken.None);

        Assert.Equal(newRoot, renewed.RootId);
        Assert.True(PeerCertificate.Verify(renewed.CertPem, [ca.OldRootPem!], new SpiffeId(ca.State.TrustDomain, "default", "dc1", "web"), time.GetUtcNow().AddMinutes(1)).Trusted);
    }

    [Fact]
    public async Task A_leaf_nobody_asks_for_in_72_hours_is_not_renewed_again()
    {
        var time = new ManualTimeProvider(Start);
        var ca = new ScriptedCa(time);
        await using var roots = new CaRootsWatch(ca, time, NullLogger.Instance);
        await using var leaves = new LeafCertificates(ca, roots, "dc1", () => 1, time, new Random(9), NullLogger.Instance);
        var first = await leaves.WaitAsync("web", 0, TimeSpan.FromSeconds(30), CancellationToken.None);

        time.Advance(await NextTimerAsync(time) - time.GetUtcNow()); // first renewal: asked for 43–65 h ago
        Assert.True(SpinWait.SpinUntil(() => leaves.Peek("web")?.Index > first.Index, TimeSpan.FromSeconds(30)), "renewed"); // looked at, not asked for
        time.Advance(await NextTimerAsync(time) - time.GetUtcNow()); // second: over 72 h since anyone asked
        Assert.True(SpinWait.SpinUntil(() => leaves.Peek("web") is null, TimeSpan.FromSeconds(30)), "the slot lapses");
        Assert.Equal(2, ca.Signed);
    }

    /// <summary>When the loop's next timer is due, once it has set one (the loop runs on the pool; bounded).</summary>
    private static async Task<DateTimeOffset> NextTimerAsync(ManualTimeProvider time, DateTimeOffset? before = null)
    {
        var now = time.GetUtcNow();
        DateTimeOffset? due = null;
        Assert.True(
            SpinWait.SpinUntil(() => (due = time.NextDue) is { } d && d > now && (before is null || d <= before), TimeSpan.FromSeconds(30)),
            $"no timer after {now:O} (next: {time.NextDue:O})");
        await Task.Yield();
        return due!.Value;
    }

    /// <summary>The servers as the leaf cache sees them: the CA roots (a blocking read) and Sign, done by the real CA code.</summary>
    private sealed class ScriptedCa(TimeProvider time) : IServerConnection
    {
        private readonly ChangeSignal _changed = new();
        private int _signed;

        public CaState State { get; private set; } = CaPlan.Bootstrap(CaDefaults.Config("11111111-2222-3333-4444-555555555555"), time.GetUtcNow(), [1]);

        public ulong Index { get; private set; } = 5;

        public int Signed => Volatile.Read(ref _signed);

        public string? OldRootPem { get; private set; }

        public string Rotate()
        {
            var config = State.Config.Clone();
            (config.PrivateKeyType, config.PrivateKeyBits) = ("rsa", 2048);
            OldRootPem = State.Roots.Single(r => r.Active).RootCert;
            State = CaPlan.Configure(State, config, "", "", time.GetUtcNow(), () => [2]).Next;
            Index++;
            _changed.Fire();
            return State.Roots.Single(r => r.Active).Id;
        }

        public async Task<QueryResult<T>> QueryAsync<T>(StateQuery<T> query, ReadOptions options, CancellationToken cancellationToken = default)
        {
            var ca = Assert.IsType<CaQuery>(query);
            var changed = _changed.Next;
            if (options.MinIndex >= Index)
            {
                await changed.WaitAsync(cancellationToken);
            }

            return (QueryResult<T>)(object)new QueryResult<CaState?>(Index, CaQuery.Public(State), true, TimeSpan.Zero);
        }

        public Task<SignReply> SignAsync(SignRequest request, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _signed);
            var root = State.Roots.Single(r => r.Active);
            var id = new SpiffeId(State.TrustDomain, "default", "dc1", request.Service);
            var pem = CertificateAuthority.SignLeaf(new CaKeyPair(root.RootCert, root.SigningKey), request.Csr, id, time.GetUtcNow(), TimeSpan.FromSeconds(State.Config.LeafCertTtlS), [(byte)(Signed + 1)]);
            using var cert = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(pem);
            return Task.FromResult(new SignReply
            {
                CertPem = pem + string.Concat(root.IntermediateCerts),
                SerialNumber = Signed.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Service = request.Service,
                ServiceUri = id.ToString(),
                ValidAfterUnix = new DateTimeOffset(cert.NotBefore.ToUniversalTime()).ToUnixTimeSeconds(),
                ValidBeforeUnix = new DateTimeOffset(cert.NotAfter.ToUniversalTime()).ToUnixTimeSeconds(),
                Index = Index,
                RootId = root.Id,
            });
        }

        public Task<(ulong Index, CommandResult Result)> ApplyAsync(Command command, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<NodeStateReply> NodeStateAsync(string node, Consistency consistency, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<bool> RenewSessionAsync(string id, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<string> LeaderAddressAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<RaftConfigurationReply> RaftConfigurationAsync(Consistency consistency, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task RemovePeerAsync(PeerRequest peer, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task TransferLeaderAsync(PeerRequest peer, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<CaConfigureReply> ConfigureCaAsync(CaConfigureRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public IAsyncEnumerable<SubscribeEvent> SubscribeAsync(SubscribeRequest request, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
