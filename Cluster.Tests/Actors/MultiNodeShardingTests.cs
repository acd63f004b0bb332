using Legacy.Actors;
using Legacy.Actors.Membership;
using Legacy.Actors.Remoting;
using Legacy.Actors.Sharding;
using Cluster.Testing.Actors;
using Cluster.Testing.Sharding;

namespace Cluster.Tests.Actors;

/// <summary>Three or four nodes in this process, each with remoting on loopback and a shard region.</summary>
public sealed class MultiNodeShardingTests : IAsyncLifetime
{
    private const int Entities = 60;
    private readonly List<Node> _nodes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes.Where(n => n.Alive))
        {
            await node.System.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private sealed class Node(ActorSystem system, ClusterMembership membership, ActorRef region, TestProbe probe)
    {
        public ActorSystem System { get; } = system;

        public ClusterMembership Membership { get; } = membership;

        public ActorRef Region { get; } = region;

        public TestProbe Probe { get; } = probe;

        public bool Alive { get; set; } = true;

        public Address Address => System.Address;
    }

    private static ShardingOptions Options => TestEntity.Options(shards: 30) with
    {
        RetryInterval = TimeSpan.FromMilliseconds(200),
        RebalanceInterval = TimeSpan.FromMilliseconds(300),
        SettleTimeout = TimeSpan.FromSeconds(2),
        PassivateIdleAfter = null,
    };

    private async Task<List<Node>> StartAsync(int count)
    {
        var systems = new List<ActorSystem>();
        for (var i = 0; i < count; i++)
        {
            systems.Add(await RemoteTransport.StartAsync("mesh", new RemoteOptions
            {
                Messages = [EntityCommand.Descriptor, EntityReply.Descriptor],
            }));
        }

        var addresses = _nodes.Where(n => n.Alive).Select(n => n.Address).Concat(systems.Select(s => s.Address)).ToList();
        var started = new List<Node>();
        foreach (var system in systems)
        {
            var membership = new ClusterMembership(system, addresses);
            started.Add(new Node(system, membership, ClusterSharding.Start(system, Options, membership), TestProbe.Real(system, TimeSpan.FromSeconds(20))));
        }

        foreach (var node in _nodes.Where(n => n.Alive))
        {
            node.Membership.Set(addresses);
        }

        _nodes.AddRange(started);
        return started;
    }

    [Fact]
    public async Task Entities_spread_over_the_nodes_and_any_node_reaches_the_same_incarnation()
    {
        var nodes = await StartAsync(3);
        var fromFirst = ShardingDriver.Reach(nodes[0].Region, nodes[0].Probe, Enumerable.Range(0, Entities), 0);
        Assert.Equal(3, fromFirst.Values.Select(r => r.Node).Distinct().Count());
        var fromLast = ShardingDriver.Reach(nodes[2].Region, nodes[2].Probe, Enumerable.Range(0, Entities), 1);
        foreach (var (id, reply) in fromFirst)
        {
            Assert.Equal(reply.Incarnation, fromLast[id].Incarnation);
            Assert.Equal(reply.Node, fromLast[id].Node);
        }

        ShardingDriver.AssertExactlyOnceInOrder(nodes[1].Region, nodes[1].Probe, Entities, burst: 5, firstSeq: 10);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task When_a_node_dies_its_entities_restart_on_survivors(bool killCoordinatorNode)
    {
        var nodes = await StartAsync(3);
        var before = ShardingDriver.Reach(nodes[0].Region, nodes[0].Probe, Enumerable.Range(0, Entities), 0);
        var ordered = nodes.OrderBy(n => n.Address, Comparer<Address>.Create(ClusterMembership.Compare)).ToList();
        var victim = killCoordinatorNode ? ordered[0] : ordered[^1];
        var onVictim = before.Values.Where(r => r.Node == victim.Address.ToString()).Select(r => r.EntityId).ToHashSet();
        Assert.NotEmpty(onVictim);

        await victim.System.Remote!.AbortForTestsAsync();
        victim.Alive = false;
        var survivors = nodes.Where(n => n.Alive).ToList();
        foreach (var survivor in survivors)
        {
            survivor.Membership.Remove(victim.Address);
        }

        // Membership removal is synchronous: everything sent from now on is delivered, exactly
        // once and in order, even before the regions and the coordinator have heard of it.
        var from = survivors[0];
        ShardingDriver.AssertExactlyOnceInOrder(from.Region, from.Probe, Entities, burst: 3, firstSeq: 1);
        var after = ShardingDriver.Reach(from.Region, from.Probe, Enumerable.Range(0, Entities), 5);
        foreach (var (id, reply) in after)
        {
            Assert.NotEqual(victim.Address.ToString(), reply.Node);
            if (onVictim.Contains(id))
            {
                Assert.NotEqual(before[id].Incarnation, reply.Incarnation);
            }
            else
            {
                Assert.Equal(before[id].Incarnation, reply.Incarnation); // untouched entities keep running
            }
        }

        ShardingDriver.AssertExactlyOnceInOrder(survivors[^1].Region, survivors[^1].Probe, Entities, burst: 5, firstSeq: 10);
        await victim.System.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_joining_node_receives_shards_by_hand_off()
    {
        var nodes = await StartAsync(2);
        var before = ShardingDriver.Reach(nodes[0].Region, nodes[0].Probe, Enumerable.Range(0, Entities), 0);
        Assert.Equal(2, before.Values.Select(r => r.Node).Distinct().Count());
        var joined = (await StartAsync(1))[0];

        // Talk to every entity, round after round, while shards move to the new node (rebalance
        // runs every 300 ms). Every node stays up, so a hand-off must lose nothing: each round
        // expects all its replies, exactly once, with no re-sends. Bounded by a deadline.
        var deadline = TimeProvider.System.GetTimestamp() + (20 * TimeProvider.System.TimestampFrequency);
        var movedRounds = 0;
        for (var round = 1; TimeProvider.System.GetTimestamp() < deadline && movedRounds < 3; round++)
        {
            var replies = ShardingDriver.AssertExactlyOnce(nodes[1].Region, nodes[1].Probe, Entities, seq: round);
            movedRounds += replies.Any(r => r.Node == joined.Address.ToString()) ? 1 : 0;
        }

        Assert.Equal(3, movedRounds);
        ShardingDriver.AssertExactlyOnceInOrder(joined.Region, joined.Probe, Entities, burst: 3, firstSeq: 1000);
    }
}
