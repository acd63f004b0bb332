using System.Runtime.CompilerServices;
using Cluster.Gossip.Pool;
using Cluster.Primitives;
using Cluster.Server.Query;
using Grpc.Core;
using Cluster.Server.Nodes;
using Cluster.Contracts.State;
using Microsoft.Extensions.Logging;

namespace Cluster.Agent.Client;

/// <summary>
/// A client agent's node: a LAN gossip member (tagged role=node) with no Raft and no store,
/// which reaches the servers it finds in gossip through a <see cref="ServerPool"/>. The leader
/// registers it in the catalog with a serfHealth check, like every member.
/// </summary>
public sealed partial class ClientNode : IAgentNode, IServerConnection, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger;
    private Task _joining = Task.CompletedTask;
    private int _disposed;

    private ClientNode(ServerOptions options, ILoggerFactory loggerFactory)
    {
        Options = options;
        _logger = loggerFactory.CreateLogger("Cluster.Client");
        NodeId = ServerNode.LoadNodeId(options.DataDirectory);
    }

    /// <summary>The node's settings (a client uses the gossip and join ones).</summary>
    public ServerOptions Options { get; }

    public string NodeName => Options.NodeName;

    public string NodeId { get; }

    public string Datacenter => Options.Datacenter;

    public bool IsServer => false;

    public GossipPool Lan { get; private set; } = null!;

    public ServerPool Pool { get; private set; } = null!;

    public IServerConnection Servers => this;

    /// <summary>A client agent runs no Raft.</summary>
    public Cluster.Raft.Server.RaftStats? RaftStats => null;

    public static Task<ClientNode> StartAsync(ServerOptions options, ILoggerFactory loggerFactory, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        Directory.CreateDirectory(options.DataDirectory);
        var node = new ClientNode(options, loggerFactory);
        node.Lan = LanPool.Start(options, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["role"] = "node",
            ["id"] = node.NodeId,
            ["build"] = ServerNode.BuildVersion,
            ["vsn"] = "2",
        });
        node.Pool = new ServerPool(node.Lan, options.Datacenter, random ?? new Random(), options.Time);
        if (options.RetryJoin.Count > 0)
        {
            node._joining = Task.Run(() => node.JoinAsync(node._stopping.Token));
        }

        return Task.FromResult(node);
    }

    public async Task<(ulong Index, CommandResult Result)> ApplyAsync(Command command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.UnixMs == 0)
        {
            command.UnixMs = Options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        }

        var reply = await Call((c, o) => c.ApplyAsync(new ApplyRequest { Command = command, Forward = true }, o), idempotent: false, cancellationToken).ConfigureAwait(false);
        return (reply.Index, reply.Result);
    }

    public Task<NodeStateReply> NodeStateAsync(string node, Consistency consistency, CancellationToken cancellationToken = default) =>
        Call((c, o) => c.NodeStateAsync(new NodeStateRequest { Node = node, Stale = consistency == Consistency.Stale }, o), idempotent: true, cancellationToken);

    public async Task<bool> RenewSessionAsync(string id, CancellationToken cancellationToken = default) =>
        (await Call((c, o) => c.RenewAsync(new RenewRequest { Id = id, Forward = true }, o), idempotent: true, cancellationToken).ConfigureAwait(false)).Found;

    public async Task<string> LeaderAddressAsync(CancellationToken cancellationToken = default) =>
        (await Call((c, o) => c.LeaderAsync(new LeaderRequest(), o), idempotent: true, cancellationToken).ConfigureAwait(false)).Address;

    public Task<RaftConfigurationReply> RaftConfigurationAsync(Consistency consistency, CancellationToken cancellationToken = default) =>
        Call((c, o) => c.RaftConfigurationAsync(new RaftConfigurationRequest { Stale = consistency == Consistency.Stale }, o), idempotent: true, cancellationToken);

    public Task RemovePeerAsync(PeerRequest peer, CancellationToken cancellationToken = default) =>
        Call((c, o) => c.RemovePeerAsync(peer, o), idempotent: false, cancellationToken);

    public Task TransferLeaderAsync(PeerRequest peer, CancellationToken cancellationToken = default) =>
        Call((c, o) => c.TransferLeaderAsync(peer, o), idempotent: false, cancellationToken);

    public Task<SignReply> SignAsync(SignRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        // Safe to ask again: a second signing only issues another leaf for the same key.
        return Call((c, o) => c.SignAsync(new SignRequest { Csr = request.Csr, Service = request.Service, Forward = true }, o), idempotent: true, cancellationToken);
    }

    public Task<CaConfigureReply> ConfigureCaAsync(CaConfigureRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var forwarded = request.Clone();
        forwarded.Forward = true;
        return Call((c, o) => c.ConfigureCaAsync(forwarded, o), idempotent: false, cancellationToken);
    }

    public async Task<QueryResult<T>> QueryAsync<T>(StateQuery<T> query, ReadOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(options);
        var request = query.ToRequest();
        request.Options = options.ToProto();
        var reply = await Call((c, o) => c.QueryAsync(request, o), idempotent: true, cancellationToken).ConfigureAwait(false);
        return new(reply.Index, query.Decode(reply), reply.KnownLeader, TimeSpan.FromMilliseconds(reply.LastContactMs));
    }

    /// <summary>
    /// A subscription that survives its server: after a failure it resubscribes on another server
    /// from the last index it passed on whole (never from inside a snapshot), so the reader sees
    /// one stream. If a snapshot was cut short, the reader is told a new one follows.
    /// </summary>
    public async IAsyncEnumerable<SubscribeEvent> SubscribeAsync(SubscribeRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var resumeAt = request.Index;
        var inSnapshot = request.Index == 0; // a first snapshot comes without a marker
        var opened = 0;
        var seenBy = 0;
        var events = Pool.StreamAsync(
            (c, o) =>
            {
                opened++;
                return c.Subscribe(new SubscribeRequest { Topic = request.Topic, Key = request.Key, Index = resumeAt }, o);
            },
            cancellationToken);
        await foreach (var e in events.ConfigureAwait(false))
        {
            if (opened != seenBy)
            {
                seenBy = opened;
                if (inSnapshot && seenBy > 1 && !e.NewSnapshotToFollow)
                {
                    // The last server died inside a snapshot: the reader's partial one must go.
                    yield return new SubscribeEvent { Index = resumeAt, NewSnapshotToFollow = true };
                }
            }

            if (e.NewSnapshotToFollow)
            {
                inSnapshot = true;
            }
            else if (e.EndOfSnapshot || !inSnapshot)
            {
                inSnapshot = false;
                resumeAt = Math.Max(resumeAt, e.Index);
            }

            yield return e;
        }
    }

    /// <summary>How long a read is held and retried while the servers have no leader (Consul's rpc_hold_timeout).</summary>
    public static readonly TimeSpan HoldTimeout = TimeSpan.FromSeconds(7);

    private static readonly Backoff HoldBackoff = new(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(2));

    /// <summary>
    /// One call through the pool. A read that meets "no leader" (an election under way) is held
    /// and asked again for up to <see cref="HoldTimeout"/>, as Consul's client agents do, so a
    /// leader change is a pause for the agent's callers rather than an error; a write never is,
    /// since "no leader" may also mean its outcome is unknown.
    /// </summary>
    private async Task<TResponse> Call<TResponse>(Func<ServerRpc.ServerRpcClient, CallOptions, AsyncUnaryCall<TResponse>> call, bool idempotent, CancellationToken cancellationToken)
    {
        var holdUntil = Options.Time.GetUtcNow() + HoldTimeout;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await Pool.CallAsync(call, idempotent, cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
            {
                var wait = HoldBackoff.After(attempt);
                if (!idempotent || Options.Time.GetUtcNow() + wait > holdUntil)
                {
                    throw new NoLeaderException(e.Status.Detail);
                }

                await Task.Delay(wait, Options.Time, cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument)
            {
                throw new InvalidRequestException(e.Status.Detail);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
            {
                throw new Cluster.Server.Connect.RateLimitedException(e.Status.Detail);
            }
        }
    }

    private async Task JoinAsync(CancellationToken cancellationToken)
    {
        if (await LanJoin.RetryAsync(Lan, Options.RetryJoin, Options.RetryInterval, Options.Time, cancellationToken) is > 0 and var joined)
        {
            LogJoined(_logger, joined);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        await _joining.ConfigureAwait(false);
        await Lan.DisposeAsync();
        Pool.Dispose();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "joined the LAN pool ({Count} answered)")]
    private static partial void LogJoined(ILogger logger, int count);
}
