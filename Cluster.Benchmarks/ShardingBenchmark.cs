using System.Globalization;

namespace Cluster.Benchmarks;

/// <summary>
/// Sharding at scale, in one process, with our Akka.NET set-up (<see cref="AkkaSharding"/>):
/// creating the entities on one node and on three nodes talking over loopback remoting, beside
/// the ceiling of creating as many plain actors, then the recovery of every entity after one of
/// the three nodes leaves.
/// </summary>
internal static class ShardingBenchmark
{
    public static async Task RunAsync(int entities, int rounds)
    {
        Console.WriteLine($"## Sharding: {entities:N0} entities; each entity answers one message (time until all have answered; median of {rounds} rounds). Akka.NET with our set-up: one shard per home node, HomeAllocationStrategy, MessagePack; entities homed round-robin on the nodes");
        Console.WriteLine();
        Console.WriteLine("| what | time | entities/s | beside |");
        Console.WriteLine("|---|---|---|---|");

        var plainRounds = new List<TimeSpan>();
        var localRounds = new List<TimeSpan>();
        var clusterRounds = new List<AkkaSharding.ClusterRun>();

        // Untimed: the first actor system in the process pays for JIT and thread-pool ramp-up,
        // which would otherwise land on the ceiling row of the first round.
        await AkkaSharding.PlainActorsAsync(Math.Min(entities, 10_000));
        for (var round = 0; round < rounds; round++)
        {
            // Interleaved, so drift in the machine hits every row alike.
            plainRounds.Add(await AkkaSharding.PlainActorsAsync(entities));
            localRounds.Add(await AkkaSharding.OneNodeAsync(entities));
            clusterRounds.Add(await AkkaSharding.ThreeNodesAsync(entities));
        }

        var plain = Median(plainRounds);
        var local = Median(localRounds);

        // One whole run (the median by create time), so its rows belong together (restarted counts the same leave).
        var cluster = clusterRounds.OrderBy(r => r.Create).ElementAt((rounds - 1) / 2);
        Console.WriteLine(Row("ceiling: plain actors (ActorOf + one message each)", plain, entities, "-"));
        Console.WriteLine(Row("create sharded entities, 1 node", local, entities, $"{Ratio(plain, local)}x the plain-actor rate"));
        Console.WriteLine(Row("3 systems joined (JoinSeedNodes to the first) until all see 3 Up", cluster.Joined, null, "-"));
        Console.WriteLine(Row("3 nodes in one process over loopback remoting: cluster formed (regions registered, 300 first entities)", cluster.Formed, null, "-"));
        Console.WriteLine(Row("create sharded entities, 3 nodes (sent from one node; 2/3 cross nodes both ways)", cluster.Create, entities, $"{Ratio(plain, cluster.Create)}x the plain-actor rate"));
        Console.WriteLine(Row("one more message to each existing entity, 3 nodes (routing and remoting alone)", cluster.Existing, entities, "-"));
        Console.WriteLine(Row($"after 1 of 3 nodes leaves: all answer again ({cluster.Restarted:N0} restarted on survivors)", cluster.Recover, entities, $"{Ratio(cluster.Recover, cluster.Create)}x the create time"));
        Console.WriteLine();
    }

    private static TimeSpan Median(List<TimeSpan> values) => values.Order().ElementAt((values.Count - 1) / 2);

    private static string Ratio(TimeSpan numerator, TimeSpan denominator) =>
        (numerator.TotalSeconds / denominator.TotalSeconds).ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>A table row; <paramref name="entities"/> is null for a phase that is not a rate over the entities.</summary>
    private static string Row(string what, TimeSpan time, int? entities, string beside)
    {
        var rate = entities is { } n ? (n / time.TotalSeconds).ToString("N0", CultureInfo.InvariantCulture) : "-";
        return string.Create(CultureInfo.InvariantCulture, $"| {what} | {time.TotalMilliseconds:N0} ms | {rate} | {beside} |");
    }
}
