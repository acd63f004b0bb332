using System.Diagnostics;

namespace Cluster.Benchmarks;

/// <summary>A sender's order to stream <see cref="Count"/> messages; completes <see cref="Done"/> when all are acknowledged.</summary>
internal sealed record StreamRun(long Count)
{
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// A warm-up run (connections up, code jitted), then the timed run on every pair at once;
    /// returns messages per second over all pairs.
    /// </summary>
    public static async Task<double> TimeAsync(int pairs, long messagesPerPair, long warmUpPerPair, Action<int, StreamRun> start)
    {
        await RunAllAsync(pairs, warmUpPerPair, start);
        var started = Stopwatch.GetTimestamp();
        await RunAllAsync(pairs, messagesPerPair, start);
        return pairs * messagesPerPair / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private static async Task RunAllAsync(int pairs, long perPair, Action<int, StreamRun> start)
    {
        var runs = Enumerable.Range(0, pairs).Select(_ => new StreamRun(perPair)).ToList();
        for (var p = 0; p < pairs; p++)
        {
            start(p, runs[p]);
        }

        await Task.WhenAll(runs.Select(r => r.Done.Task)).WaitAsync(TimeSpan.FromMinutes(5));
    }
}

/// <summary>
/// A sender's progress through its current run. The receiver's count is cumulative across runs
/// (warm-up, then timed), so acknowledgements are taken relative to where this run began.
/// </summary>
internal sealed class StreamState
{
    private long _base;
    private long _receivedSoFar;
    private StreamRun? _run;

    public StreamWindow? Window { get; private set; }

    public void Begin(StreamRun run)
    {
        _base = _receivedSoFar;
        _run = run;
        Window = new StreamWindow(run.Count);
    }

    public void Acked(long receivedTotal)
    {
        _receivedSoFar = Math.Max(_receivedSoFar, receivedTotal);
        Window?.Acked(_receivedSoFar - _base);
    }

    public void CompleteIfDone()
    {
        if (Window is { Done: true })
        {
            _run?.Done.TrySetResult();
        }
    }
}
