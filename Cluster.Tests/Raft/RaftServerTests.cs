using System.Text;
using Cluster.Raft.Core;
using Cluster.Raft.Server;
using Cluster.Raft.Storage;
using Cluster.Raft.Transport;
using Cluster.Raft.Wire;
using Cluster.Server.Rpc;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Tests.Raft;

/// <summary>
/// The driver and the gRPC transport in one process with real sockets and files: membership
/// changes through the driver, snapshots streamed in small chunks to a new server, resumed
/// transfers, and hostile input on both transport methods.
/// </summary>
[Trait("Category", "Integration")]
public sealed class RaftServerTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "raft-server-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<ulong, Node> _nodes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        // Raft first everywhere (its streams to the others close), then the listeners.
        foreach (var node in _nodes.Values)
        {
            await node.StopRaftAsync();
        }

        foreach (var node in _nodes.Values)
        {
            await node.DisposeAsync();
        }

        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Proposals_commit_on_every_server_and_reads_see_them()
    {
        await StartClusterAsync(3);
        var leader = await LeaderAsync();
        var (index, result) = await leader.Raft.ProposeAsync(ByteString.CopyFromUtf8("a"));
        Assert.Equal("applied a", result);
        Assert.True(await leader.Raft.ReadBarrierAsync() >= index);
        Assert.True(await leader.Raft.ReadBarrierAsync(ReadMode.Lease) >= index);
        await EventuallyAsync(() => _nodes.Values.All(n => n.Machine.Applied.Contains("a")));

        var follower = _nodes.Values.First(n => n != leader);
        var error = await Assert.ThrowsAsync<NotLeaderException>(() => follower.Raft.ProposeAsync(ByteString.CopyFromUtf8("b")));
        Assert.Equal(leader.Raft.Id, error.Leader);
        Assert.Equal(leader.Address, error.LeaderAddress);
        Assert.True(await follower.Raft.ReadBarrierAsync() >= index); // a follower's read goes through the leader
    }

    [Fact]
    public async Task A_server_added_later_gets_the_snapshot_in_chunks_is_promoted_and_the_cluster_can_lose_an_old_one()
    {
        await StartClusterAsync(3, snapshotThreshold: 20);
        var leader = await LeaderAsync();
        for (var i = 0; i < 50; i++)
        {
            await leader.Raft.ProposeAsync(ByteString.CopyFromUtf8($"c{i}"));
        }

        await EventuallyAsync(() => leader.Raft.Stats!.SnapshotIndex > 0);
        var joiner = await StartNodeAsync(4, bootstrap: new Dictionary<ulong, string>(), snapshotThreshold: 20);
        await leader.Raft.AddServerAsync(4, joiner.Address, voter: true);

        var stats = await leader.Raft.StatsNowAsync();
        Assert.Equal([1UL, 2, 3, 4], stats.Configuration.Voters);
        await EventuallyAsync(() => joiner.Machine.Applied.Contains("c49"));
        Assert.True(joiner.Raft.Stats!.SnapshotIndex > 0); // it started from the leader's snapshot
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"c{i}"), joiner.Machine.Applied.Where(c => c.StartsWith('c')));

        // Remove a founding server that is not the leader, stop it: three voters remain and commit.
        var removed = _nodes.Values.First(n => n != leader && n != joiner);
        await leader.Raft.RemoveServerAsync(removed.Raft.Id);
        await removed.DisposeAsync();
        _nodes.Remove(removed.Raft.Id);
        await leader.Raft.ProposeAsync(ByteString.CopyFromUtf8("after removal"));
        await EventuallyAsync(() => joiner.Machine.Applied.Contains("after removal"));
        await Assert.ThrowsAsync<ArgumentException>(() => leader.Raft.RemoveServerAsync(removed.Raft.Id));
    }

    [Fact]
    public async Task A_proposal_that_cannot_commit_gives_its_caller_back_on_cancellation()
    {
        await StartClusterAsync(3);
        var leader = await LeaderAsync();
        foreach (var follower in _nodes.Values.Where(n => n != leader))
        {
            await follower.StopRaftAsync(); // no quorum left
        }

        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var error = await Assert.ThrowsAnyAsync<Exception>(() => leader.Raft.ProposeAsync(ByteString.CopyFromUtf8("stuck"), cancel.Token));
        Assert.True(error is OperationCanceledException or NotLeaderException, error.ToString()); // NotLeader if it already stepped down for lack of a quorum
        Assert.DoesNotContain("stuck", leader.Machine.Applied);
    }

    [Fact]
    public async Task Leadership_moves_on_request()
    {
        await StartClusterAsync(3);
        var leader = await LeaderAsync();
        var target = _nodes.Values.First(n => n != leader);
        await leader.Raft.ProposeAsync(ByteString.CopyFromUtf8("before"));
        // The leader answers lease reads without a loop turn; followers never do.
        await EventuallyAsync(() => leader.Raft.TryLeaseRead());
        Assert.DoesNotContain(_nodes.Values, n => n != leader && n.Raft.TryLeaseRead());
        await leader.Raft.TransferLeadershipAsync(target.Raft.Id).WaitAsync(TimeSpan.FromSeconds(30));
        // The lease ends before TimeoutNow leaves the old leader, so once the new one leads the old one cannot read alone.
        Assert.False(leader.Raft.TryLeaseRead());
        Assert.Equal(RaftRole.Leader, (await target.Raft.StatsNowAsync()).Role);
        await target.Raft.ProposeAsync(ByteString.CopyFromUtf8("at the new leader"));
    }

    [Fact]
    public async Task An_interrupted_snapshot_transfer_resumes_where_it_stopped_and_a_damaged_one_is_refused()
    {
        var node = await StartNodeAsync(1, new Dictionary<ulong, string> { [1] = "" });
        var data = Encoding.UTF8.GetBytes(new string('s', 1000));
        var meta = new SnapshotMeta { Index = 10, Term = 2, Conf = new ConfState { Voters = { 1 } } };
        using var channel = GrpcChannel.ForAddress(new Uri($"http://{node.Address}"));
        var client = new Cluster.Raft.Wire.Raft.RaftClient(channel);
        var header = new SnapshotChunk { From = 9, To = 1, Term = 2, Meta = meta, TotalSize = (ulong)data.Length, Checksum = WalRecord.Checksum(0, data) };

        using (var first = client.InstallSnapshot())
        {
            await first.RequestStream.WriteAsync(header);
            Assert.True(await first.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(0UL, first.ResponseStream.Current.Offset);
            await first.RequestStream.WriteAsync(new SnapshotChunk { Offset = 0, Data = ByteString.CopyFrom(data, 0, 400) });
            await first.RequestStream.CompleteAsync(); // the sender goes away mid-transfer
            Assert.False(await first.ResponseStream.MoveNext(CancellationToken.None));
        }

        using (var second = client.InstallSnapshot())
        {
            await second.RequestStream.WriteAsync(header);
            Assert.True(await second.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(400UL, second.ResponseStream.Current.Offset);
            var wrongOffset = new SnapshotChunk { Offset = 0, Data = ByteString.CopyFrom(data, 0, 10) };
            await second.RequestStream.WriteAsync(wrongOffset);
            var error = await Assert.ThrowsAsync<RpcException>(async () => await second.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        }

        using (var third = client.InstallSnapshot())
        {
            await third.RequestStream.WriteAsync(header);
            Assert.True(await third.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(400UL, third.ResponseStream.Current.Offset);
            var damaged = data[400..];
            damaged[0] ^= 0xFF;
            await third.RequestStream.WriteAsync(new SnapshotChunk { Offset = 400, Data = ByteString.CopyFrom(damaged) });
            await third.RequestStream.CompleteAsync();
            var error = await Assert.ThrowsAsync<RpcException>(async () => await third.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(StatusCode.DataLoss, error.StatusCode);
        }

        Assert.Null(new SnapshotStore(Path.Combine(_root, "n1", "snap")).Load(10, 2)); // nothing damaged was installed
        Assert.Equal(0UL, node.Raft.Stats!.SnapshotIndex);
    }

    [Fact]
    public async Task Hostile_transport_input_is_refused_and_the_cluster_keeps_committing()
    {
        await StartClusterAsync(3);
        var leader = await LeaderAsync();
        var victim = _nodes.Values.First(n => n != leader);
        using var channel = GrpcChannel.ForAddress(new Uri($"http://{victim.Address}"));
        var client = new Cluster.Raft.Wire.Raft.RaftClient(channel);

        // Bad snapshot headers.
        foreach (var bad in new[]
        {
            new SnapshotChunk(),
            new SnapshotChunk { From = 1, To = 99, Meta = new SnapshotMeta { Index = 1, Term = 1, Conf = new ConfState() }, TotalSize = 1 },
            new SnapshotChunk { From = 1, To = victim.Raft.Id, Meta = new SnapshotMeta { Index = 1, Term = 1 }, TotalSize = 1 },
            new SnapshotChunk { From = 1, To = victim.Raft.Id, Meta = new SnapshotMeta { Index = 1, Term = 1, Conf = new ConfState() }, TotalSize = ulong.MaxValue },
        })
        {
            using var call = client.InstallSnapshot();
            await call.RequestStream.WriteAsync(bad);
            var error = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        }

        // Seeded garbage on the message stream: misaddressed, spoofed, out of range, mutated.
        var random = new Random(42);
        using (var stream = client.Stream())
        {
            for (var i = 0; i < 200; i++)
            {
                var batch = new MessageBatch();
                batch.Messages.Add(new Message
                {
                    Type = (MessageType)random.Next(0, 14),
                    From = (ulong)random.Next(0, 6),
                    To = random.Next(4) == 0 ? 77 : victim.Raft.Id,
                    Term = (ulong)random.Next(0, 3),
                    Index = (ulong)random.Next(0, 1000),
                    LogTerm = (ulong)random.Next(0, 3),
                    Commit = (ulong)random.Next(0, 1000),
                    Entries = { new Entry { Index = (ulong)random.Next(0, 1000), Term = (ulong)random.Next(0, 3), Data = ByteString.CopyFromUtf8("junk") } },
                });
                await stream.RequestStream.WriteAsync(batch);
            }

            await stream.RequestStream.CompleteAsync();
            await stream.ResponseAsync;
        }

        Assert.True(victim.Raft.Transport.DroppedInbound > 0);
        var current = await LeaderAsync();
        await current.Raft.ProposeAsync(ByteString.CopyFromUtf8("still here"));
        await EventuallyAsync(() => _nodes.Values.All(n => n.Machine.Applied.Contains("still here")));
        var applied = _nodes.Values.Select(n => n.Machine.Applied.ToList()).ToList();
        Assert.All(applied, a => Assert.Equal(applied[0].Take(a.Count), a.Take(applied[0].Count))); // nobody diverged
    }

    private async Task StartClusterAsync(int count, ulong snapshotThreshold = 16_384)
    {
        // Bind every server first: the founding configuration needs their addresses.
        var bound = new List<Node>();
        for (ulong id = 1; id <= (ulong)count; id++)
        {
            bound.Add(await Node.BindAsync(id, Path.Combine(_root, $"n{id}")));
        }

        var bootstrap = bound.ToDictionary(n => n.Id, n => n.Address);
        foreach (var node in bound)
        {
            node.Start(bootstrap, snapshotThreshold);
            _nodes[node.Id] = node;
        }
    }

    private async Task<Node> StartNodeAsync(ulong id, Dictionary<ulong, string> bootstrap, ulong snapshotThreshold = 16_384)
    {
        var node = await Node.BindAsync(id, Path.Combine(_root, $"n{id}"));
        if (bootstrap.ContainsKey(id))
        {
            bootstrap[id] = node.Address;
        }

        node.Start(bootstrap, snapshotThreshold);
        _nodes[id] = node;
        return node;
    }

    private async Task<Node> LeaderAsync()
    {
        Node? leader = null;
        await EventuallyAsync(() => (leader = _nodes.Values.FirstOrDefault(n => n.Raft.Stats?.Role == RaftRole.Leader && _nodes.Values.All(o => o.Raft.Stats?.Leader == n.Id))) is not null);
        return leader!;
    }

    /// <summary>Waits until <paramref name="condition"/> holds, re-checking after each loop turn of any server (bounded: fails after 30 s).</summary>
    private async Task EventuallyAsync(Func<bool> condition)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var changed = _nodes.Values.Where(n => n.Started).Select(n => n.Raft.Changed).ToList(); // taken before the check: no change is missed
            if (condition())
            {
                return;
            }

            await Task.WhenAny(changed).WaitAsync(deadline.Token);
        }
    }

    private sealed class Machine : IStateMachine
    {
        private List<string> _applied = [];

        public IReadOnlyList<string> Applied
        {
            get
            {
                lock (this)
                {
                    return [.. _applied];
                }
            }
        }

        public object? Apply(ulong index, ByteString command)
        {
            lock (this)
            {
                _applied.Add(command.ToStringUtf8());
            }

            return "applied " + command.ToStringUtf8();
        }

        public void WriteSnapshot(Stream destination)
        {
            lock (this)
            {
                destination.Write(Encoding.UTF8.GetBytes(string.Join('\n', _applied)));
            }
        }

        public void Restore(ReadOnlySpan<byte> snapshot)
        {
            lock (this)
            {
                _applied = snapshot.IsEmpty ? [] : [.. Encoding.UTF8.GetString(snapshot).Split('\n')];
            }
        }
    }

    private sealed class Node : IAsyncDisposable
    {
        private RaftServer? _raft;
        private bool _disposed;

        private Node(ulong id, string directory, GrpcHost server)
        {
            Id = id;
            Directory = directory;
            Server = server;
        }

        public ulong Id { get; }

        public string Directory { get; }

        public GrpcHost Server { get; }

        public string Address => $"127.0.0.1:{Server.Addresses[0].Port}";

        public Machine Machine { get; } = new();

        public RaftServer Raft => _raft!;

        public bool Started => _raft is not null;

        public static async Task<Node> BindAsync(ulong id, string directory)
        {
            Node? node = null;
            var server = await GrpcHost.StartAsync(
                new GrpcHostOptions { Endpoints = [new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0)] },
                services => services.AddSingleton(new RaftService(() => node?._raft?.Transport)),
                endpoints => endpoints.MapGrpcService<RaftService>());
            node = new Node(id, directory, server);
            return node;
        }

        public void Start(IReadOnlyDictionary<ulong, string> bootstrap, ulong snapshotThreshold)
        {
            _raft = new RaftServer(
                new RaftServerOptions
                {
                    Id = Id,
                    Address = Address,
                    DataDirectory = Directory,
                    Bootstrap = bootstrap,
                    Fsync = false,
                    SnapshotThreshold = snapshotThreshold,
                    Transport = new RaftTransportOptions { SnapshotChunkBytes = 64 },
                },
                Machine,
                NullLoggerFactory.Instance);
            _raft.Start();
        }

        public async Task StopRaftAsync()
        {
            if (_raft is not null && !_disposed)
            {
                await _raft.DisposeAsync();
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_disposed)
            {
                return;
            }

            await StopRaftAsync();
            _disposed = true;
            await Server.DisposeAsync();
        }
    }
}
