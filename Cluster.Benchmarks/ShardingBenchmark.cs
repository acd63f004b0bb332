using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Legacy.Actors;
using Legacy.Actors.Membership;
using Legacy.Actors.Remoting;
using Legacy.Actors.Sharding;
using Cluster.Testing.Sharding;

namespace Cluster.Benchmarks;

/// <summary>
/// Sharding at scale, in one process: creating 100,000 entities (one node, and three nodes
/// talking over loopback remoting) beside the ceiling of creating as many plain actors, and
/// the recovery of every entity after one of three nodes leaves; the legacy runtime's sharding
/// beside Akka.NET's with our set-up (<see cref="AkkaSharding"/>), rounds interleaved.
/// </summary>
internal static class ShardingBenchmark
{
    private const int Shards = 300;

    public static async Task RunAsync(int entities, int rounds)
    {
        Console.WriteLine($"## Sharding: {entities:N0} entities; each entity answers one message (time until all have answered; median of {rounds} rounds). Legacy: {Shards} shards, TestEntity, protobuf. Akka.NET: our set-up (one shard per home node, HomeAllocationStrategy, MessagePack), entities homed round-robin on the nodes");
        Console.WriteLine();
        Console.WriteLine("| what | legacy time | legacy entities/s | Akka.NET time | Akka entities/s | beside (legacy; Akka) |");
        Console.WriteLine("|---|---|---|---|---|---|");

        var plainRounds = new List<(TimeSpan Legacy, TimeSpan Akka)>();
        var localRounds = new List<(TimeSpan Legacy, TimeSpan Akka)>();
        var clusterRounds = new List<(TimeSpan Formed, TimeSpan Create, TimeSpan Existing, int Restarted, TimeSpan Recover)>();
        var akkaClusterRounds = new List<AkkaSharding.ClusterRun>();
        for (var round = 0; round < rounds; round++)
        {
            plainRounds.Add((await PlainActorsAsync(entities), await AkkaSharding.PlainActorsAsync(entities)));
            localRounds.Add((await LocalShardingAsync(entities), await AkkaSharding.OneNodeAsync(entities)));
            clusterRounds.Add(await ThreeNodesAsync(entities));
            akkaClusterRounds.Add(await AkkaSharding.ThreeNodesAsync(entities));
        }

        var plain = (Legacy: Median(plainRounds.Select(r => r.Legacy)), Akka: Median(plainRounds.Select(r => r.Akka)));
        var local = (Legacy: Median(localRounds.Select(r => r.Legacy)), Akka: Median(localRounds.Select(r => r.Akka)));
        Console.WriteLine(Row("ceiling: plain actors (ActorOf + one message each)", plain, entities, "-"));
        Console.WriteLine(Row("create sharded entities, 1 node", local, entities, $"{Ratio(plain.Legacy, local.Legacy)}x; {Ratio(plain.Akka, local.Akka)}x the plain-actor rate"));
        var (formed, create, existing, restarted, recover) = clusterRounds.OrderBy(r => r.Create).ElementAt((rounds - 1) / 2);
        var akka = akkaClusterRounds.OrderBy(r => r.Create).ElementAt((rounds - 1) / 2);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| Akka only: 3 systems joined (JoinSeedNodes to the first) until all see 3 Up | - | - | {akka.Joined.TotalMilliseconds:N0} ms | - | - |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| 3 nodes in one process over loopback remoting: cluster formed (regions registered, 300 first entities) | {formed.TotalMilliseconds:N0} ms | - | {akka.Formed.TotalMilliseconds:N0} ms | - | - |"));
        Console.WriteLine(Row("create sharded entities, 3 nodes (sent from one node; 2/3 cross nodes both ways)", (create, akka.Create), entities, $"{Ratio(plain.Legacy, create)}x; {Ratio(plain.Akka, akka.Create)}x the plain-actor rate"));
        Console.WriteLine(Row("one more message to each existing entity, 3 nodes (routing and remoting alone)", (existing, akka.Existing), entities, "-"));
        Console.WriteLine(Row($"after 1 of 3 nodes leaves: all answer again (restarted on survivors: legacy {restarted:N0}, Akka {akka.Restarted:N0})", (recover, akka.Recover), entities, $"{Ratio(recover, create)}x; {Ratio(akka.Recover, akka.Create)}x the create time"));
        Console.WriteLine();
    }

    private static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        return sorted[(sorted.Count - 1) / 2];
    }

    private static string Ratio(TimeSpan numerator, TimeSpan denominator) =>
        (numerator.TotalSeconds / denominator.TotalSeconds).ToString("F2", CultureInfo.InvariantCulture);

    private static string Row(string what, (TimeSpan Legacy, TimeSpan Akka) time, int entities, string beside) =>
        string.Create(CultureInfo.InvariantCulture, $"| {what} | {time.Legacy.TotalMilliseconds:N0} ms | {entities / time.Legacy.TotalSeconds:N0} | {time.Akka.TotalMilliseconds:N0} ms | {entities / time.Akka.TotalSeconds:N0} | {beside} |");

    private static async Task<TimeSpan> PlainActorsAsync(int entities)
    {
        await using var system = ActorSystem.Create("bench");
        var replies = new Replies(system);
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < entities; i++)
        {
            var id = "e" + i.ToString(CultureInfo.InvariantCulture);
            system.ActorOf(Props.Create(() => new TestEntity(id))).Tell(Command(i, 0), replies.Ref);
        }

        await replies.WaitAsync(Enumerable.Range(0, entities), 0, _ => { });
        return Stopwatch.GetElapsedTime(start);
    }

    private static async Task<TimeSpan> LocalShardingAsync(int entities)
    {
        await using var system = ActorSystem.Create("bench");
        var region = ClusterSharding.Start(system, Options(), new ClusterMembership(system));
        var replies = new Replies(system);
        var start = Stopwatch.GetTimestamp();
        await replies.ReachAsync(region, Enumerable.Range(0, entities), 0);
        return Stopwatch.GetElapsedTime(start);
    }

    private static async Task<(TimeSpan Formed, TimeSpan Create, TimeSpan Existing, int Restarted, TimeSpan Recover)> ThreeNodesAsync(int entities)
    {
        var systems = new List<ActorSystem>();
        for (var i = 0; i < 3; i++)
        {
            systems.Add(await RemoteTransport.StartAsync("bench", new RemoteOptions
            {
                Messages = [EntityCommand.Descriptor, EntityReply.Descriptor],
                OutboundQueueCapacity = entities * 2,
            }));
        }

        var addresses = systems.Select(s => s.Address).ToList();
        var memberships = systems.Select(s => new ClusterMembership(s, addresses)).ToList();
        var regions = systems.Select((s, i) => ClusterSharding.Start(s, Options(), memberships[i])).ToList();
        var first = memberships[0].Leader!;
        var driverIndex = systems.FindIndex(s => s.Address == first); // drive from the coordinator's node
        var leaverIndex = (driverIndex + 1) % 3;
        try
        {
            var replies = new Replies(systems[driverIndex]);

            // Form the cluster first (regions registered, streams up): the figure is entity creation, not start-up.
            var start = Stopwatch.GetTimestamp();
            await replies.ReachAsync(regions[driverIndex], Enumerable.Range(entities, 300), 0);
            var formed = Stopwatch.GetElapsedTime(start);
            start = Stopwatch.GetTimestamp();
            var before = await replies.ReachAsync(regions[driverIndex], Enumerable.Range(0, entities), 0);
            var create = Stopwatch.GetElapsedTime(start);

            // The same entities again: the cost of routing alone, without creating anything.
            start = Stopwatch.GetTimestamp();
            await replies.ReachAsync(regions[driverIndex], Enumerable.Range(0, entities), 2);
            var existing = Stopwatch.GetElapsedTime(start);

            var leaver = systems[leaverIndex];
            await leaver.Terminate();
            foreach (var membership in memberships.Where((_, i) => i != leaverIndex))
            {
                membership.Remove(leaver.Address);
            }

            start = Stopwatch.GetTimestamp();
            var after = await replies.ReachAsync(regions[driverIndex], Enumerable.Range(0, entities), 1);
            var recover = Stopwatch.GetElapsedTime(start);
            var restarted = after.Count(a => a.Value != before[a.Key]);
            return (formed, create, existing, restarted, recover);
        }
        finally
        {
            foreach (var system in systems)
            {
                await system.Terminate();
            }
        }
    }

    private static ShardingOptions Options() => TestEntity.Options("bench", Shards) with
    {
        PassivateIdleAfter = null,
        RetryInterval = TimeSpan.FromMilliseconds(200),
        BufferCapacity = 1_000_000,
    };

    private static EntityCommand Command(int entity, long seq) =>
        new() { EntityId = "e" + entity.ToString(CultureInfo.InvariantCulture), Seq = seq };

    /// <summary>Collects replies through a function ref; re-sends what went unanswered (messages to a lost home are gone: at most once).</summary>
    private sealed class Replies
    {
        // Single reader: replies arrive from many threads without a lock per reply.
        private readonly Channel<EntityReply> _replies = Channel.CreateUnbounded<EntityReply>(new UnboundedChannelOptions { SingleReader = true });

        public Replies(ActorSystem system)
        {
            Ref = system.CreateFunctionRef((message, _) =>
            {
                if (message is EntityReply reply)
                {
                    _replies.Writer.TryWrite(reply);
                }
            });
        }

        public ActorRef Ref { get; }

        public async Task<Dictionary<int, int>> ReachAsync(ActorRef region, IEnumerable<int> entities, long seq)
        {
            var incarnations = new Dictionary<int, int>();
            var pending = entities.ToHashSet();
            for (var round = 0; pending.Count > 0; round++)
            {
                if (round == 30)
                {
                    throw new TimeoutException($"{pending.Count} entities never answered");
                }

                foreach (var entity in pending)
                {
                    region.Tell(Command(entity, seq), Ref);
                }

                await WaitAsync(pending, seq, r => incarnations[int.Parse(r.EntityId[1..], CultureInfo.InvariantCulture)] = r.Incarnation);
            }

            return incarnations;
        }

        /// <summary>Takes replies until every pending entity answered or 300 ms pass without one (then the caller re-sends).</summary>
        public async Task WaitAsync(IEnumerable<int> entities, long seq, Action<EntityReply> onReply)
        {
            var pending = entities as HashSet<int> ?? entities.ToHashSet();
            while (pending.Count > 0)
            {
                using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
                try
                {
                    await _replies.Reader.WaitToReadAsync(quiet.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                while (_replies.Reader.TryRead(out var reply))
                {
                    if (reply.Seq == seq && pending.Remove(int.Parse(reply.EntityId[1..], CultureInfo.InvariantCulture)))
                    {
                        onReply(reply);
                    }
                }
            }
        }
    }
}
