using Akka.Actor;
using Akka.Cluster;
using Cluster.Actors;
using AkkaCluster = Akka.Cluster.Cluster;

namespace Cluster.Benchmarks;

/// <summary>
/// Akka actor systems as our nodes run them: <see cref="ActorNode.CreateSystem"/> (our HOCON, the
/// MessagePack serializer with the benchmark's registry, remoting on a free loopback port).
/// Clusters are formed by joining the first node's address directly, not through the gossip
/// pool: the figures are Akka's, not formation's.
/// </summary>
internal static class AkkaNodes
{
    private static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(60);

    public static ActorSystem Create() => ActorNode.CreateSystem(new ActorNodeOptions
    {
        SystemName = "bench",
        Messages = BenchMessages.Registry,
    });

    /// <summary>Joins every system to the first one's address and waits until each sees all of them Up.</summary>
    public static async Task FormAsync(IReadOnlyList<ActorSystem> systems)
    {
        var seed = AkkaCluster.Get(systems[0]).SelfAddress;
        var ups = new List<Task>();
        foreach (var system in systems)
        {
            var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var cluster = AkkaCluster.Get(system);
            cluster.RegisterOnMemberUp(() => up.TrySetResult());
            cluster.JoinSeedNodes([seed]);
            ups.Add(up.Task);

            // One at a time, so the first node is the oldest (it runs the shard coordinator).
            await up.Task.WaitAsync(UpTimeout);
        }

        await Task.WhenAll(ups).WaitAsync(UpTimeout);
        var deadline = DateTime.UtcNow + UpTimeout;
        while (systems.Any(s => AkkaCluster.Get(s).State.Members.Count(m => m.Status == MemberStatus.Up) < systems.Count))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the Akka cluster did not converge");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Leaves the cluster (shards hand off) and stops the system, as ActorNode does on dispose.</summary>
    public static async Task LeaveAsync(ActorSystem system)
    {
        await AkkaCluster.Get(system).LeaveAsync().WaitAsync(UpTimeout);
        await system.Terminate();
    }

    public static async Task TerminateAllAsync(IEnumerable<ActorSystem> systems)
    {
        await Task.WhenAll(systems.Select(s => s.Terminate()));
    }
}
