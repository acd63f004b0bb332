using System.Net;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Cluster.Actors;
using Cluster.Actors.Formation;
using Cluster.Actors.Sharding;
using Cluster.Gossip.Pool;

namespace Cluster.Testing.Sharded;

/// <summary>
/// One node of an in-process test cluster on loopback: a real LAN gossip pool (fast test timers),
/// an <see cref="ActorNode"/> formed from it, and the echo entities' shard region.
/// </summary>
public sealed class LabNode : IAsyncDisposable
{
    private readonly bool _hostsEntities;

    private LabNode(string name, GossipPool pool, ActorNode node, bool hostsEntities)
    {
        _hostsEntities = hostsEntities;
        Name = name;
        Pool = pool;
        Node = node;
    }

    public string Name { get; }

    public GossipPool Pool { get; }

    public ActorNode Node { get; }

    /// <summary>The echo region of the current incarnation.</summary>
    public IActorRef Region => _hostsEntities
        ? ClusterSharding.Get(Node.System).ShardRegion(EchoEntity.TypeName)
        : ClusterSharding.Get(Node.System).ShardRegionProxy(EchoEntity.TypeName);

    /// <summary>
    /// Starts a node that joins <paramref name="join"/>'s pool. <paramref name="systemName"/> is
    /// unique per test cluster: ports freed by one test's nodes are reused by another's, and a node
    /// must not take Akka gossip from a cluster it never belonged to.
    /// </summary>
    public static async Task<LabNode> StartAsync(string name, IEnumerable<string> join, TimeSpan idleAfter, string systemName, bool hostsEntities = true)
    {
        var pool = GossipPool.Start(new PoolOptions
        {
            Kind = PoolKind.Lan,
            NodeName = name,
            Bind = new IPEndPoint(IPAddress.Loopback, 0),
            Tune = GossipTimers.Fast,
        });
        var targets = join.ToList();
        if (targets.Count > 0)
        {
            await pool.JoinAsync(targets);
        }

        var node = await ActorNode.StartAsync(
            new ActorNodeOptions { SystemName = systemName, Messages = EchoMessages.Registry, ExpectPeers = targets.Count > 0, SettleAfter = TimeSpan.FromMilliseconds(500) },
            new GossipPoolView(pool, systemName),
            (system, directory) =>
            {
                _ = hostsEntities
                    ? ShardedEntities.Start(system, EchoEntity.TypeName, id => EchoEntity.Props(id, idleAfter), directory)
                    : ShardedEntities.StartProxy(system, EchoEntity.TypeName);
                return Task.CompletedTask;
            });
        return new LabNode(name, pool, node, hostsEntities);
    }

    public async ValueTask DisposeAsync()
    {
        await Node.DisposeAsync();
        await Pool.DisposeAsync();
    }

    /// <summary>Asks entity <paramref name="id"/> of <paramref name="home"/> through this node until it answers (bounded).</summary>
    public async Task<EchoReply> EchoAsync(string home, string id, long seq, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        Exception? last = null;
        while (!cts.IsCancellationRequested)
        {
            try
            {
                return await Region.Ask<EchoReply>(new Echo(home, id, seq), TimeSpan.FromSeconds(2), cts.Token);
            }
            catch (AskTimeoutException e)
            {
                last = e; // in flight to a node that died, or the shard is being placed: ask again
            }
            catch (TaskCanceledException e)
            {
                last = e;
            }
        }

        throw new TimeoutException($"{home}/{id} did not answer through {Name} within {timeout}", last);
    }
}
