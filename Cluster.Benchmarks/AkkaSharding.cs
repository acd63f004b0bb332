using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using Cluster.Actors.Sharding;
using AkkaCluster = Akka.Cluster.Cluster;

namespace Cluster.Benchmarks;

/// <summary>
/// The workloads of <see cref="ShardingBenchmark"/>, with our set-up as nodes run it:
/// <see cref="ShardedEntities"/> (HomeMessageExtractor: one shard per home node;
/// HomeAllocationStrategy reading a <see cref="NodeDirectory"/> of node name → Akka address),
/// MessagePack <see cref="BenchCommand"/>s, and entities homed round-robin on the nodes' names.
/// </summary>
internal static class AkkaSharding
{
    private static readonly string[] Names = ["n0", "n1", "n2"];

    /// <summary>One figure per phase of a three-node run; <paramref name="Restarted"/> counts entities started again on the survivors.</summary>
    public sealed record ClusterRun(TimeSpan Joined, TimeSpan Formed, TimeSpan Create, TimeSpan Existing, int Restarted, TimeSpan Recover);

    /// <summary>Ceiling: plain actors created with ActorOf and sent one message each.</summary>
    public static async Task<TimeSpan> PlainActorsAsync(int entities)
    {
        var system = AkkaNodes.Create();
        try
        {
            var replies = new AkkaReplies(system);
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < entities; i++)
            {
                system.ActorOf(BenchEntity.Props("n0/" + BenchIds.Of(i))).Tell(Command("n0", i, 0), replies.Ref);
            }

            await replies.WaitAsync(Enumerable.Range(0, entities).ToHashSet(), 0, _ => { });
            return Stopwatch.GetElapsedTime(start);
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>All entities homed on the one node; timed from the first message (the shard is placed within it).</summary>
    public static async Task<TimeSpan> OneNodeAsync(int entities)
    {
        var system = AkkaNodes.Create();
        try
        {
            var region = StartRegions([system])[0];
            await AkkaNodes.FormAsync([system]);
            var replies = new AkkaReplies(system);
            var start = Stopwatch.GetTimestamp();
            await replies.ReachAsync(region, Enumerable.Range(0, entities), 0, i => Command(Names[0], i, 0));
            return Stopwatch.GetElapsedTime(start);
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>
    /// Three nodes, driven from the first (the oldest: it runs the shard coordinator), so two thirds
    /// of messages and replies cross nodes; then the second node leaves gracefully.
    /// </summary>
    public static async Task<ClusterRun> ThreeNodesAsync(int entities)
    {
        var systems = Names.Select(_ => AkkaNodes.Create()).ToList();
        const int Leaver = 1;
        try
        {
            // Regions before joining, as ActorNode does: a node that joins first receives the others'
            // sharding (ddata) messages before its own serializers for them are loaded, and drops them.
            var regions = StartRegions(systems);
            var start = Stopwatch.GetTimestamp();
            await AkkaNodes.FormAsync(systems);
            var joined = Stopwatch.GetElapsedTime(start);
            var driver = regions[0];
            var replies = new AkkaReplies(systems[0]);
            object Send(int i, long seq) => Command(Names[i % Names.Length], i, seq);

            // Regions registered and each home's shard placed: the figure is entity creation, not start-up.
            start = Stopwatch.GetTimestamp();
            await replies.ReachAsync(driver, Enumerable.Range(entities, 300), 0, i => Send(i, 0));
            var formed = Stopwatch.GetElapsedTime(start);

            start = Stopwatch.GetTimestamp();
            var before = await replies.ReachAsync(driver, Enumerable.Range(0, entities), 0, i => Send(i, 0));
            var create = Stopwatch.GetElapsedTime(start);

            start = Stopwatch.GetTimestamp();
            await replies.ReachAsync(driver, Enumerable.Range(0, entities), 2, i => Send(i, 2));
            var existing = Stopwatch.GetElapsedTime(start);

            // Graceful: the leaver hands its shard off and is removed before its system stops.
            await AkkaNodes.LeaveAsync(systems[Leaver]);
            start = Stopwatch.GetTimestamp();
            var after = await replies.ReachAsync(driver, Enumerable.Range(0, entities), 1, i => Send(i, 1));
            var recover = Stopwatch.GetElapsedTime(start);
            var restarted = after.Count(a => a.Value != before[a.Key]);
            return new ClusterRun(joined, formed, create, existing, restarted, recover);
        }
        finally
        {
            await AkkaNodes.TerminateAllAsync(systems);
        }
    }

    /// <summary>A region per node, every node's allocation strategy reading the same name → address directory.</summary>
    private static List<IActorRef> StartRegions(IReadOnlyList<ActorSystem> systems)
    {
        var directory = new NodeDirectory();
        directory.Replace(systems.Select((s, i) => KeyValuePair.Create(Names[i], AkkaCluster.Get(s).SelfAddress)).ToImmutableDictionary());
        return [.. systems.Select(s => ShardedEntities.Start(s, BenchEntity.TypeName, BenchEntity.Props, directory))];
    }

    private static BenchCommand Command(string home, int entity, long seq) => new(home, BenchIds.Of(entity), seq);
}
