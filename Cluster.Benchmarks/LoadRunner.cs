using System.Diagnostics;

namespace Cluster.Benchmarks;

/// <summary>Runs an operation from N concurrent callers for a fixed time after a warm-up.</summary>
public static class LoadRunner
{
    public static async Task<LoadResult> RunAsync(int concurrency, TimeSpan warmup, TimeSpan duration, Func<Task> operation)
    {
        await RunPhaseAsync(concurrency, warmup, operation, record: false);
        return await RunPhaseAsync(concurrency, duration, operation, record: true);
    }

    private static async Task<LoadResult> RunPhaseAsync(int concurrency, TimeSpan duration, Func<Task> operation, bool record)
    {
        var latencies = new List<long>[concurrency];
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, concurrency).Select(i => Task.Run(async () =>
        {
            var mine = latencies[i] = new List<long>(100_000);
            while (true)
            {
                var before = Stopwatch.GetTimestamp();
                if (before >= end)
                {
                    return;
                }

                await operation();
                if (record)
                {
                    mine.Add(Stopwatch.GetTimestamp() - before);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var elapsed = Stopwatch.GetElapsedTime(start);
        var all = latencies.SelectMany(l => l).ToList();
        return LoadResult.FromLatencies(all.Count, elapsed, all);
    }

    /// <summary>
    /// Streams messages over one bidirectional exchange with at most <paramref name="window"/>
    /// unanswered, counting answers per second.
    /// </summary>
    public static async Task<LoadResult> RunStreamAsync(int window, TimeSpan warmup, TimeSpan duration, Func<Task> send, Func<ValueTask<bool>> receive, Func<Task> complete)
    {
        var credits = new SemaphoreSlim(window, window);
        var received = 0L;
        var measuring = false;
        var measureStart = 0L;
        var stop = false;
        var reader = Task.Run(async () =>
        {
            while (await receive())
            {
                if (Volatile.Read(ref measuring))
                {
                    Interlocked.Increment(ref received);
                }

                credits.Release();
            }
        });

        var writer = Task.Run(async () =>
        {
            while (!Volatile.Read(ref stop))
            {
                await credits.WaitAsync();
                await send();
            }

            await complete();
        });

        await Task.Delay(warmup);
        measureStart = Stopwatch.GetTimestamp();
        Volatile.Write(ref measuring, true);
        await Task.Delay(duration);
        Volatile.Write(ref measuring, false);
        var count = Interlocked.Read(ref received);
        var elapsed = Stopwatch.GetElapsedTime(measureStart);
        Volatile.Write(ref stop, true);
        await writer;
        await reader;
        return new LoadResult(count, elapsed, double.NaN, double.NaN);
    }
}
