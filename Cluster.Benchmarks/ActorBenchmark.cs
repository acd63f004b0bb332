using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Legacy.Actors;

namespace Cluster.Benchmarks;

/// <summary>
/// The legacy runtime ("ours, before") and Akka.NET ("after", made as our nodes make it) beside
/// their ceilings, in one process and one run: Tell ping-pong against the same ping-pong over
/// System.Threading.Channels, Ask round trips against a channel request/reply, the memory of an
/// idle actor against an idle channel reader task, sharding, and remote streaming.
/// </summary>
internal static class ActorBenchmark
{
    private static readonly int[] PairCounts = [1, 16, 256];
    private const long MessagesPerCell = 2_000_000;

    public static async Task RunAsync(int rounds, string? only, int entities)
    {
        Console.WriteLine($"# Actor runtime benchmark, legacy (ours, before) vs Akka.NET {typeof(Akka.Actor.ActorSystem).Assembly.GetName().Version} (after): {Environment.ProcessorCount} cores, .NET {Environment.Version}, server GC {System.Runtime.GCSettings.IsServerGC}, concurrent GC {System.Runtime.GCSettings.LatencyMode != System.Runtime.GCLatencyMode.Batch}; median of {rounds} rounds");
        Console.WriteLine();
        if (only is null || "tell".Contains(only, StringComparison.Ordinal))
        {
            await TellAsync(rounds);
        }

        if (only is null || "ask".Contains(only, StringComparison.Ordinal))
        {
            await AskAsync(rounds);
        }

        if (only is null || "memory".Contains(only, StringComparison.Ordinal))
        {
            await MemoryAsync();
        }

        if (only is null || "sharding".Contains(only, StringComparison.Ordinal))
        {
            await ShardingBenchmark.RunAsync(entities, rounds);
        }

        if (only is null || "remote".Contains(only, StringComparison.Ordinal))
        {
            await RemoteBenchmark.RunAsync(rounds);
        }
    }

    private static async Task TellAsync(int rounds)
    {
        Console.WriteLine($"## Tell: ping-pong pairs, one message in flight per pair, {MessagesPerCell:N0} messages per cell");
        Console.WriteLine();
        Console.WriteLine("| pairs | legacy (msg/s) | Akka.NET (msg/s) | channels ceiling (msg/s) | legacy / ceiling | Akka / ceiling (goal >= 0.7x) |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var pairs in PairCounts)
        {
            var ours = new List<double>();
            var akka = new List<double>();
            var ceiling = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                // Interleaved, so drift in the machine hits all three alike.
                ceiling.Add(await ChannelPingPongAsync(pairs, MessagesPerCell / pairs));
                ours.Add(await ActorPingPongAsync(pairs, MessagesPerCell / pairs));
                akka.Add(await AkkaLocal.PingPongAsync(pairs, MessagesPerCell / pairs));
            }

            var o = Median(ours);
            var a = Median(akka);
            var c = Median(ceiling);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {pairs} | {o:N0} | {a:N0} | {c:N0} | {o / c:F2}x | {a / c:F2}x |"));
        }

        Console.WriteLine();
    }

    private static async Task<double> ActorPingPongAsync(int pairs, long messagesPerPair)
    {
        await using var system = ActorSystem.Create("bench");
        var done = new CountdownEvent(pairs);
        var players = new List<(ActorRef A, ActorRef B)>();
        for (var i = 0; i < pairs; i++)
        {
            var a = system.ActorOf(Props.Create(() => new Player(done)));
            var b = system.ActorOf(Props.Create(() => new Player(done)));
            players.Add((a, b));
        }

        var start = Stopwatch.GetTimestamp();
        foreach (var (a, b) in players)
        {
            a.Tell(new Ball(messagesPerPair), b);
        }

        done.Wait();
        var elapsed = Stopwatch.GetElapsedTime(start);
        return pairs * messagesPerPair / elapsed.TotalSeconds;
    }

    private static async Task<double> ChannelPingPongAsync(int pairs, long messagesPerPair)
    {
        var options = new UnboundedChannelOptions { SingleReader = true, SingleWriter = true };
        var tasks = new List<Task>();
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < pairs; i++)
        {
            var toB = Channel.CreateUnbounded<object>(options);
            var toA = Channel.CreateUnbounded<object>(options);
            var ball = new object();
            tasks.Add(Task.Run(async () =>
            {
                for (var n = 0L; n < messagesPerPair; n += 2)
                {
                    toB.Writer.TryWrite(ball);
                    await toA.Reader.ReadAsync();
                }
            }));
            tasks.Add(Task.Run(async () =>
            {
                for (var n = 0L; n < messagesPerPair; n += 2)
                {
                    var received = await toB.Reader.ReadAsync();
                    toA.Writer.TryWrite(received);
                }
            }));
        }

        await Task.WhenAll(tasks);
        var elapsed = Stopwatch.GetElapsedTime(start);
        return pairs * messagesPerPair / elapsed.TotalSeconds;
    }

    private static async Task AskAsync(int rounds)
    {
        const int Asks = 200_000;
        Console.WriteLine($"## Ask: sequential round trips to an echo actor ({Asks:N0} per round), beside a channel request/reply with a TaskCompletionSource");
        Console.WriteLine();
        Console.WriteLine("| callers | legacy Ask (/s) | p50 | p99 | Akka.NET Ask (/s) | p50 | p99 | channel ceiling (/s) | p50 | p99 | legacy / ceiling | Akka / ceiling |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var callers in new[] { 1, 16 })
        {
            var ours = new List<LoadResult>();
            var akka = new List<LoadResult>();
            var ceiling = new List<LoadResult>();
            for (var round = 0; round < rounds; round++)
            {
                ceiling.Add(await ChannelRequestReplyAsync(callers, Asks / callers));
                ours.Add(await ActorAskAsync(callers, Asks / callers));
                akka.Add(await AkkaLocal.AskAsync(callers, Asks / callers));
            }

            var o = MedianRun(ours);
            var a = MedianRun(akka);
            var c = MedianRun(ceiling);
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {callers} | {o.PerSecond:N0} | {Micros(o.P50Micros)} | {Micros(o.P99Micros)} | {a.PerSecond:N0} | {Micros(a.P50Micros)} | {Micros(a.P99Micros)} | {c.PerSecond:N0} | {Micros(c.P50Micros)} | {Micros(c.P99Micros)} | {o.PerSecond / c.PerSecond:F2}x | {a.PerSecond / c.PerSecond:F2}x |"));
        }

        Console.WriteLine();
    }

    private static async Task<LoadResult> ActorAskAsync(int callers, int asksPerCaller)
    {
        await using var system = ActorSystem.Create("bench");
        var echo = system.ActorOf(Props.Create(() => new Echo()));
        var timeout = TimeSpan.FromSeconds(10);
        return await MeasureAsync(callers, asksPerCaller, () => echo.Ask<object>(Ball.Instance, timeout));
    }

    private static async Task<LoadResult> ChannelRequestReplyAsync(int callers, int asksPerCaller)
    {
        var requests = Channel.CreateUnbounded<TaskCompletionSource<object>>(new UnboundedChannelOptions { SingleReader = true });
        var server = Task.Run(async () =>
        {
            await foreach (var request in requests.Reader.ReadAllAsync())
            {
                request.TrySetResult(Ball.Instance);
            }
        });
        var result = await MeasureAsync(callers, asksPerCaller, () =>
        {
            var reply = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
            requests.Writer.TryWrite(reply);
            return reply.Task;
        });
        requests.Writer.Complete();
        await server;
        return result;
    }

    private static LoadResult MedianRun(List<LoadResult> runs) => runs.OrderBy(r => r.PerSecond).ElementAt((runs.Count - 1) / 2);

    private static string Micros(double micros) => LoadResult.FormatMicros(micros);

    /// <summary>Warms up, then runs <paramref name="callers"/> concurrent callers timing each call.</summary>
    internal static async Task<LoadResult> MeasureAsync(int callers, int perCaller, Func<Task<object>> call)
    {
        for (var i = 0; i < 2_000; i++)
        {
            await call(); // warm-up
        }

        var latencies = new List<long>[callers];
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
        {
            var mine = latencies[c] = new List<long>(perCaller);
            for (var i = 0; i < perCaller; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                await call();
                mine.Add(Stopwatch.GetTimestamp() - t0);
            }
        })));
        var elapsed = Stopwatch.GetElapsedTime(start);
        return LoadResult.FromLatencies((long)callers * perCaller, elapsed, [.. latencies.SelectMany(l => l)]);
    }

    private static async Task MemoryAsync()
    {
        const int Count = 1_000_000;
        Console.WriteLine($"## Memory per idle actor ({Count:N0} actors under one parent; managed heap after full GCs / count; goal <= 500 bytes; Akka.NET publishes ~2.5 million per GB, ~400 bytes)");
        Console.WriteLine();
        Console.WriteLine("| what | bytes each |");
        Console.WriteLine("|---|---|");

        await using (var system = ActorSystem.Create("bench"))
        {
            var parent = system.ActorOf(Props.Create(() => new Spawner()), "parent");
            var props = Props.Create(() => new Idle());
            var before = Settle();
            var created = await parent.Ask<int>((Count, props), TimeSpan.FromMinutes(5));
            var after = Settle();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| legacy: idle actor (cell, mailbox, actor, name, parent's table entry) | {(after - before) / (double)created:F0} |"));
        }

        var akka = await AkkaLocal.BytesPerIdleActorAsync(Count);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| Akka.NET: idle UntypedActor (cell, mailbox, actor, name, parent's children container) | {akka:F0} |"));

        {
            var readers = new List<(Channel<object>, Task)>(Count);
            var before = Settle();
            for (var i = 0; i < Count; i++)
            {
                var channel = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
                readers.Add((channel, ReadLoopAsync(channel)));
            }

            var after = Settle();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| comparison: idle Channel<object> + awaiting reader task | {(after - before) / (double)Count:F0} |"));
            foreach (var (channel, _) in readers)
            {
                channel.Writer.Complete();
            }

            await Task.WhenAll(readers.Select(r => r.Item2));
        }

        Console.WriteLine();

        static async Task ReadLoopAsync(Channel<object> channel)
        {
            await foreach (var _ in channel.Reader.ReadAllAsync())
            {
            }
        }
    }

    /// <summary>The managed heap after full, compacting collections (what stays alive).</summary>
    internal static long Settle()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static double Median(List<double> values) => values.Order().ElementAt((values.Count - 1) / 2);

    private sealed class Ball(long remaining)
    {
        public static Ball Instance { get; } = new(0);

        public long Remaining { get; } = remaining;
    }

    /// <summary>Bounces one ball; a pair's count runs down inside the ball, not in shared state.</summary>
    private sealed class Player(CountdownEvent done) : Actor
    {
        private long _remaining = -1;

        protected override void Receive(object message)
        {
            if (_remaining < 0)
            {
                _remaining = ((Ball)message).Remaining / 2;
            }

            if (--_remaining <= 0)
            {
                if (_remaining == 0)
                {
                    done.Signal();
                }

                return;
            }

            Sender.Tell(message, Self);
        }
    }

    private sealed class Echo : Actor
    {
        protected override void Receive(object message) => Sender.Tell(message, Self);
    }

    private sealed class Idle : Actor
    {
        protected override void Receive(object message)
        {
        }
    }

    private sealed class Spawner : Actor
    {
        protected override void Receive(object message)
        {
            if (message is (int count, Props props))
            {
                for (var i = 0; i < count; i++)
                {
                    Context.ActorOf(props, "e" + i.ToString(CultureInfo.InvariantCulture));
                }

                Reply(count);
            }
        }
    }
}
