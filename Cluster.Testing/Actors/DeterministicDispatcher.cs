using System.Collections.Concurrent;
using Legacy.Actors.Dispatch;

namespace Cluster.Testing.Actors;

/// <summary>
/// Runs mailboxes only when the test says so, one at a time on the test's thread, in the
/// order they were scheduled. With a <see cref="ManualTimeProvider"/> this makes an actor
/// test a deterministic function of its inputs: no sleeps, no races, the same run every time.
/// </summary>
public sealed class DeterministicDispatcher : IDispatcher
{
    private readonly ConcurrentQueue<IThreadPoolWorkItem> _runnable = new();
    private TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Mailbox runs above which <see cref="RunUntilIdle"/> reports a livelock instead of spinning forever.</summary>
    public int MaxRunsPerDrain { get; init; } = 10_000_000;

    public int Pending => _runnable.Count;

    public void Schedule(IThreadPoolWorkItem mailbox)
    {
        _runnable.Enqueue(mailbox);
        Volatile.Read(ref _arrived).TrySetResult();
    }

    /// <summary>Runs scheduled mailboxes (and what they schedule) until none is left; returns how many ran.</summary>
    public int RunUntilIdle()
    {
        var runs = 0;
        while (_runnable.TryDequeue(out var mailbox))
        {
            mailbox.Execute();
            if (++runs > MaxRunsPerDrain)
            {
                throw new InvalidOperationException($"Actors still busy after {MaxRunsPerDrain} mailbox runs: a livelock?");
            }
        }

        return runs;
    }

    /// <summary>
    /// Completes when work is scheduled, e.g. from a task continuation on the thread pool.
    /// Take it before draining the queue so no arrival is missed.
    /// </summary>
    public Task WhenWorkArrives()
    {
        var current = Volatile.Read(ref _arrived);
        if (current.Task.IsCompleted)
        {
            var fresh = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            current = Interlocked.CompareExchange(ref _arrived, fresh, current) == current ? fresh : Volatile.Read(ref _arrived);
        }

        return _runnable.IsEmpty ? current.Task : Task.CompletedTask;
    }
}
