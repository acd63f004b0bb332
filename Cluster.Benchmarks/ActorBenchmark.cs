using System.Diagnostics;
using System.Globalization;

namespace Cluster.Benchmarks;

/// <summary>
/// Akka.NET, made as our nodes make it, beside its ceilings, in one process and one run: Tell
/// ping-pong against the same ping-pong over System.Threading.Channels
/// (<see cref="ChannelCeilings"/>), Ask round trips against a channel request/reply, the memory
/// of an idle actor against an idle channel reader task, sharding, and remote streaming.
/// </summary>
internal static class ActorBenchmark
{
    private static readonly int[] PairCounts = [1, 16, 256];
    private const long MessagesPerCell = 2_000_000;

    public static async Task RunAsync(int rounds, string? only, int entities)
    {
        Console.WriteLine($"# Actor runtime benchmark, Akka.NET {typeof(Akka.Actor.ActorSystem).Assembly.GetName().Version} (our set-up) beside its ceilings: {Environment.ProcessorCount} cores, .NET {Environment.Version}, server GC {System.Runtime.GCSettings.IsServerGC}, concurrent GC {System.Runtime.GCSettings.LatencyMode != System.Runtime.GCLatencyMode.Batch}; median of {rounds} rounds");
        Console.WriteLine();
        if (Selected(only, "tell"))
        {
            await TellAsync(rounds);
        }

        if (Selected(only, "ask"))
        {
            await AskAsync(rounds);
        }

        if (Selected(only, "memory"))
        {
            await MemoryAsync();
        }

        if (Selected(only, "sharding"))
        {
            await ShardingBenchmark.RunAsync(entities, rounds);
        }

        if (Selected(only, "remote"))
        {
            await RemoteBenchmark.RunAsync(rounds);
        }
    }

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

    // --only takes a section name or any part of one ("sh" runs sharding).
    private static bool Selected(string? only, string section) => only is null || section.Contains(only, StringComparison.Ordinal);

    private static async Task TellAsync(int rounds)
    {
        Console.WriteLine($"## Tell: ping-pong pairs, one message in flight per pair, {MessagesPerCell:N0} messages per cell");
        Console.WriteLine();
        Console.WriteLine("| pairs | Akka.NET (msg/s) | channels ceiling (msg/s) | Akka / ceiling (goal >= 0.7x) |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var pairs in PairCounts)
        {
            var akka = new List<double>();
            var ceiling = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                // Interleaved, so drift in the machine hits both alike.
                ceiling.Add(await ChannelCeilings.PingPongAsync(pairs, MessagesPerCell / pairs));
                akka.Add(await AkkaLocal.PingPongAsync(pairs, MessagesPerCell / pairs));
            }

            var a = Median(akka);
            var c = Median(ceiling);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {pairs} | {a:N0} | {c:N0} | {a / c:F2}x |"));
        }

        Console.WriteLine();
    }

    private static async Task AskAsync(int rounds)
    {
        const int Asks = 200_000;
        Console.WriteLine($"## Ask: round trips to an echo actor ({Asks:N0} per round, split over the callers), beside a channel request/reply with a TaskCompletionSource");
        Console.WriteLine();
        Console.WriteLine("| callers | Akka.NET Ask (/s) | p50 | p99 | channel ceiling (/s) | p50 | p99 | Akka / ceiling |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var callers in new[] { 1, 16 })
        {
            var akka = new List<LoadResult>();
            var ceiling = new List<LoadResult>();
            for (var round = 0; round < rounds; round++)
            {
                ceiling.Add(await ChannelCeilings.RequestReplyAsync(callers, Asks / callers));
                akka.Add(await AkkaLocal.AskAsync(callers, Asks / callers));
            }

            var a = MedianRun(akka);
            var c = MedianRun(ceiling);
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {callers} | {a.PerSecond:N0} | {Micros(a.P50Micros)} | {Micros(a.P99Micros)} | {c.PerSecond:N0} | {Micros(c.P50Micros)} | {Micros(c.P99Micros)} | {a.PerSecond / c.PerSecond:F2}x |"));
        }

        Console.WriteLine();
    }

    private static async Task MemoryAsync()
    {
        const int Count = 1_000_000;
        Console.WriteLine($"## Memory per idle actor ({Count:N0} actors under one parent; managed heap after full GCs / count; goal <= 500 bytes; Akka.NET publishes ~2.5 million per GB, ~400 bytes)");
        Console.WriteLine();
        Console.WriteLine("| what | bytes each |");
        Console.WriteLine("|---|---|");
        var akka = await AkkaLocal.BytesPerIdleActorAsync(Count);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| Akka.NET: idle UntypedActor (cell, mailbox, actor, name, parent's children container) | {akka:F0} |"));
        var channel = await ChannelCeilings.BytesPerIdleReaderAsync(Count);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| comparison: idle Channel<object> + awaiting reader task | {channel:F0} |"));
        Console.WriteLine();
    }

    private static double Median(List<double> values) => values.Order().ElementAt((values.Count - 1) / 2);

    private static LoadResult MedianRun(List<LoadResult> runs) => runs.OrderBy(r => r.PerSecond).ElementAt((runs.Count - 1) / 2);

    private static string Micros(double micros) => LoadResult.FormatMicros(micros);
}
