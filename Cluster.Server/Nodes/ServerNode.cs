using System.Globalization;
using System.Net;
using Cluster.Gossip.Pool;
using Cluster.Server.Rpc;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Cluster.Raft.Core;
using Cluster.Raft.Server;
using Cluster.Raft.Transport;
using Cluster.Server.State;
using Cluster.Contracts.State;
using Microsoft.Extensions.Logging;

namespace Cluster.Server.Nodes;

/// <summary>How fresh a read must be (Consul's consistency modes).</summary>
public enum Consistency
{
    /// <summary>Confirmed by the leader's lease: no round trip while the lease holds.</summary>
    Default,

    /// <summary>Whatever this server has applied: fastest, may lag.</summary>
    Stale,

    /// <summary>Confirmed by a quorum round (ReadIndex): linearizable under any clock behaviour.</summary>
    Consistent,
}

/// <summary>A write or read that cannot be served now (no leader, the leader unreachable): HTTP 500, clients retry.</summary>
public sealed class NoLeaderException(string message) : Exception(message);

/// <summary>
/// One server: the gRPC endpoint on the server port (Raft's stream and <see cref="Rpc.ServerRpcService"/>),
/// the LAN gossip member, Raft over the <see cref="StateStore"/>, and the leader's duties
/// (<c>ServerNode.Leader.cs</c>). Writes go to the leader (forwarded by followers); reads are
/// served by any server after the barrier their consistency mode asks for.
/// </summary>
public sealed partial class ServerNode : IAsyncDisposable, IAgentNode
{
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ChannelCache _channels = new(TimeSpan.FromSeconds(1));
    private readonly TaskCompletionSource<RaftServer> _raftStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Task> _background = [];
    private GrpcHost? _grpc;
    private RaftServer? _raft;
    private int _disposed;

    private ServerNode(ServerOptions options, ILoggerFactory loggerFactory)
    {
        Options = options;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("Cluster.Server");
        NodeId = LoadNodeId(options.DataDirectory);
        RaftId = RaftIdOf(NodeId);
        Fsm = new ServerStateMachine(Store);
    }

    public ServerOptions Options { get; }

    /// <summary>This node's UUID (kept in data-dir/node-id).</summary>
    public string NodeId { get; }

    public ulong RaftId { get; }

    public StateStore Store { get; } = new();

    public ServerStateMachine Fsm { get; }

    public GossipPool Lan { get; private set; } = null!;

    private DateTimeOffset _lanStarted;

    /// <summary>host:port of this server's RPC endpoint.</summary>
    public string RpcAddress { get; private set; } = "";

    /// <summary>Raft once it runs (bootstrap may wait for peers).</summary>
    public RaftServer? Raft => Volatile.Read(ref _raft);

    public Task<RaftServer> RaftStarted => _raftStarted.Task;

    public static async Task<ServerNode> StartAsync(ServerOptions options, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        Directory.CreateDirectory(options.DataDirectory);
        var node = new ServerNode(options, loggerFactory);
        try
        {
            await node.StartCoreAsync();
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }

        return node;
    }

    private async Task StartCoreAsync()
    {
        _grpc = await GrpcHost.StartAsync(
            new GrpcHostOptions
            {
                Endpoints = [new IPEndPoint(Options.Bind, Options.ServerPort)],
                // Raft commands and forwarded HTTP bodies (a KV value up to 512 KiB, a txn of many).
                MaxReceiveMessageSize = 64 << 20,
                Logging = _loggerFactory,
            },
            services => services.AddSingleton(new ServerRpcService(this)).AddSingleton(new RaftService(() => Raft?.Transport)),
            endpoints =>
            {
                endpoints.MapGrpcService<ServerRpcService>();
                endpoints.MapGrpcService<RaftService>();
            });
        var port = _grpc.Addresses[0].Port;
        RpcAddress = $"{Options.AdvertiseAddress}:{port}";

        Lan = LanPool.Start(Options, Tags());
        _lanStarted = Options.Time.GetUtcNow();

        if (HasRaftState())
        {
            StartRaft(new Dictionary<ulong, string>());
        }
        else if (Options.Bootstrap)
        {
            StartRaft(new Dictionary<ulong, string> { [RaftId] = RpcAddress });
        }
        else
        {
            _background.Add(Task.Run(() => BootstrapWhenExpectedAsync(_stopping.Token)));
        }

        if (Options.RetryJoin.Count > 0)
        {
            _background.Add(Task.Run(() => RetryJoinAsync(_stopping.Token)));
        }

        _background.Add(Task.Run(() => LeaderLoopAsync(_stopping.Token)));
    }

    private Dictionary<string, string> Tags() => new(StringComparer.Ordinal)
    {
        ["role"] = "consul",
        ["id"] = NodeId,
        ["raft_id"] = RaftId.ToString(CultureInfo.InvariantCulture),
        ["rpc_addr"] = RpcAddress,
        ["port"] = RpcAddress[(RpcAddress.LastIndexOf(':') + 1)..],
        ["expect"] = Options.BootstrapExpect.ToString(CultureInfo.InvariantCulture),
        ["build"] = BuildVersion,
        ["vsn"] = "2",
        ["raft_vsn"] = "3",
    };

    public const string BuildVersion = "1.17.0";

    /// <summary>
    /// Replicates a command and returns its result. A follower forwards it to the leader; while
    /// no leader is known it waits (bounded) for one. A command is sent again only when it is
    /// known not to have been applied (the leader refused it, or the connection never opened), so
    /// a timeout or a call that failed after sending is an error whose outcome is unknown.
    /// </summary>
    public async Task<(ulong Index, CommandResult Result)> ApplyAsync(Command command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (command.UnixMs == 0)
        {
            command.UnixMs = Options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        var bytes = Google.Protobuf.MessageExtensions.ToByteString(command);
        while (true)
        {
            var raft = await RaftStarted.WaitAsync(timeout.Token).ConfigureAwait(false);
            var changed = raft.Changed;
            try
            {
                var (index, result) = await raft.ProposeAsync(bytes, timeout.Token).ConfigureAwait(false);
                return (index, (CommandResult)result!);
            }
            catch (NotLeaderException notLeader) when (notLeader.LeaderAddress.Length > 0)
            {
                try
                {
                    var reply = await Channel(notLeader.LeaderAddress).ApplyAsync(new ApplyRequest { Command = command }, cancellationToken: timeout.Token).ConfigureAwait(false);
                    return (reply.Index, reply.Result);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
                {
                    // It stopped leading before it proposed: nothing was applied; find the new leader.
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && RpcOutcome.NeverSent(e))
                {
                    // Not reached at all: nothing was sent; wait for the cluster to notice.
                    await Task.Delay(TimeSpan.FromMilliseconds(100), Options.Time, timeout.Token).ConfigureAwait(false);
                }
                catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
                {
                    // Sent, then the call failed (a reset, a stalled connection): the leader may have
                    // applied it. Sending it again could apply a CAS, a lock or a release twice.
                    throw new NoLeaderException($"The write's outcome is unknown: the leader at {notLeader.LeaderAddress} failed after it was sent ({e.Status.Detail})");
                }
            }
            catch (NotLeaderException)
            {
                await WaitOrTimeout(changed, timeout.Token);
            }
            catch (OutcomeUnknownException e)
            {
                throw new NoLeaderException($"The write's outcome is unknown: {e.Message}");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new NoLeaderException("No cluster leader: the write timed out");
            }
        }
    }

    /// <summary>Waits until this server may answer a read in <paramref name="mode"/>.</summary>
    public async Task ReadBarrierAsync(Consistency mode, CancellationToken cancellationToken = default)
    {
        if (mode == Consistency.Stale)
        {
            return;
        }

        var raft = Raft ?? throw new NoLeaderException("No cluster leader");
        if (mode == Consistency.Default && raft.TryLeaseRead())
        {
            return; // the leader inside its lease: no loop turn, no round trip
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        while (true)
        {
            var changed = raft.Changed;
            try
            {
                await raft.ReadBarrierAsync(mode == Consistency.Consistent ? ReadMode.Quorum : ReadMode.Lease, timeout.Token).ConfigureAwait(false);
                return;
            }
            catch (NotLeaderException)
            {
                await WaitOrTimeout(changed, timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new NoLeaderException("No cluster leader");
            }
        }
    }

    /// <summary>Whether a leader is known, and how long since this server heard from it (zero on the leader).</summary>
    public (bool KnownLeader, TimeSpan LastContact) LeaderContact()
    {
        var stats = Raft?.Stats;
        if (stats is null || stats.Leader == 0)
        {
            return (false, TimeSpan.Zero);
        }

        if (stats.Role == RaftRole.Leader || stats.LastContact is not { } last)
        {
            return (true, TimeSpan.Zero);
        }

        var since = Options.Time.GetUtcNow() - last;
        return (true, since < TimeSpan.Zero ? TimeSpan.Zero : since);
    }

    private static async Task WaitOrTimeout(Task changed, CancellationToken cancellationToken)
    {
        // Raft's Changed fires every loop turn (each tick at least), so this is a bounded wait.
        await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    internal async Task<ApplyReply> ServeApplyAsync(ApplyRequest request, ServerCallContext context)
    {
        if (request.Forward)
        {
            try
            {
                var (applied, outcome) = await ApplyAsync(request.Command, context.CancellationToken).ConfigureAwait(false);
                return new ApplyReply { Index = applied, Result = outcome };
            }
            catch (NoLeaderException e)
            {
                // Reported to the client as is, never retried there: a timed-out write may have been applied.
                throw new RpcException(new Status(StatusCode.FailedPrecondition, e.Message));
            }
        }

        var raft = Raft ?? throw new RpcException(new Status(StatusCode.FailedPrecondition, "raft not started"));
        try
        {
            var (index, result) = await raft.ProposeAsync(Google.Protobuf.MessageExtensions.ToByteString(request.Command), context.CancellationToken).ConfigureAwait(false);
            return new ApplyReply { Index = index, Result = (CommandResult)result! };
        }
        catch (NotLeaderException notLeader)
        {
            // Not appended, or overwritten before it committed: nothing was applied, so the caller may send it elsewhere.
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"leader={notLeader.LeaderAddress}"));
        }
        catch (OutcomeUnknownException e)
        {
            throw new RpcException(new Status(StatusCode.Unknown, e.Message)); // never FailedPrecondition: it may have been applied
        }
    }

    internal Task<StatusReply> ServeStatusAsync() =>
        Task.FromResult(new StatusReply
        {
            RaftId = RaftId,
            HasState = Raft is not null || HasRaftState(),
            LeaderAddress = Raft?.Stats?.LeaderAddress ?? "",
        });

    internal ServerRpc.ServerRpcClient Channel(string address) => _channels.For(address);

    private bool HasRaftState()
    {
        var wal = Path.Combine(Options.DataDirectory, "raft", "wal");
        return Directory.Exists(wal) && Directory.EnumerateFiles(wal).Any();
    }

    private void StartRaft(IReadOnlyDictionary<ulong, string> bootstrap)
    {
        lock (_raftStarted)
        {
            if (_raft is not null)
            {
                return;
            }

            var raft = new RaftServer(
                new RaftServerOptions
                {
                    Id = RaftId,
                    Address = RpcAddress,
                    DataDirectory = Path.Combine(Options.DataDirectory, "raft"),
                    Bootstrap = bootstrap,
                    Fsync = Options.Fsync,
                    TickInterval = Options.RaftTick,
                    Time = Options.Time,
                },
                Fsm,
                _loggerFactory);
            raft.Start();
            Volatile.Write(ref _raft, raft);
            _raftStarted.TrySetResult(raft);
        }
    }

    public static string LoadNodeId(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, "node-id");
        if (File.Exists(path) && Guid.TryParse(File.ReadAllText(path).Trim(), out var saved))
        {
            return saved.ToString();
        }

        var id = Guid.NewGuid().ToString();
        File.WriteAllText(path, id);
        return id;
    }

    /// <summary>Raft ids are the node UUID's first 8 bytes (never 0), so every server derives the same id for a peer from its gossip tags.</summary>
    public static ulong RaftIdOf(string nodeId)
    {
        var bytes = Guid.Parse(nodeId).ToByteArray();
        var id = BitConverter.ToUInt64(bytes, 0);
        return id == 0 ? 1 : id;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        try
        {
            await Task.WhenAll(_background).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException)
        {
        }

        if (Lan is not null)
        {
            await Lan.DisposeAsync();
        }

        if (Raft is { } raft)
        {
            await raft.DisposeAsync();
        }

        if (_grpc is not null)
        {
            await _grpc.DisposeAsync();
        }

        _channels.Dispose();

        _stopping.Dispose();
    }
}
