using Legacy.Actors;

namespace Cluster.Testing.Actors;

/// <summary>
/// An actor system on virtual time and a deterministic dispatcher, for xunit tests:
/// <code>
/// await using var kit = new ActorTestKit();
/// var probe = kit.CreateProbe();
/// var counter = kit.System.ActorOf(Props.Create(() => new Counter()));
/// counter.Tell(new Increment(), probe.Ref);
/// probe.ExpectMsg&lt;int&gt;(n => n == 1);
/// </code>
/// Probes run the actors while they wait and move the clock from timer to timer, so a test
/// of a 30-second backoff takes microseconds and runs identically every time.
/// </summary>
public sealed class ActorTestKit : IProbeScheduler, IAsyncDisposable
{
    public ActorTestKit(int seed = 1, string systemName = "test", Func<ActorSystemOptions, ActorSystemOptions>? configure = null)
    {
        Clock = new ManualTimeProvider();
        Dispatcher = new DeterministicDispatcher();
        var options = new ActorSystemOptions { Time = Clock, Dispatcher = Dispatcher, Random = new Random(seed) };
        System = ActorSystem.Create(systemName, configure is null ? options : configure(options));
        RunUntilIdle();
    }

    public ActorSystem System { get; }

    public ManualTimeProvider Clock { get; }

    public DeterministicDispatcher Dispatcher { get; }

    public TimeProvider Time => Clock;

    /// <summary>How long probes wait by default (virtual time).</summary>
    public TimeSpan DefaultTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Upper bound of real time <see cref="Await{T}"/> waits for work from other threads.</summary>
    public TimeSpan RealTimeLimit { get; init; } = TimeSpan.FromSeconds(30);

    public TestProbe CreateProbe(string? name = null) => new(System, this, DefaultTimeout, name);

    /// <summary>Runs every actor that has work until all are idle.</summary>
    public int RunUntilIdle() => Dispatcher.RunUntilIdle();

    /// <summary>Moves virtual time forward, timer by timer, letting actors react to each before the next.</summary>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        var target = Clock.GetUtcNow() + by;
        RunUntilIdle();
        while (Clock.NextDue is { } due && due <= target)
        {
            Clock.Advance(due - Clock.GetUtcNow());
            RunUntilIdle();
        }

        Clock.Advance(target - Clock.GetUtcNow());
        RunUntilIdle();
    }

    public bool RunUntil(Func<bool> condition, TimeSpan max, SemaphoreSlim signal)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = Clock.GetUtcNow() + max;
        while (true)
        {
            RunUntilIdle();
            if (condition())
            {
                return true;
            }

            if (Clock.NextDue is not { } due || due > deadline)
            {
                Clock.Advance(deadline - Clock.GetUtcNow());
                RunUntilIdle();
                return condition();
            }

            Clock.Advance(due - Clock.GetUtcNow());
        }
    }

    /// <summary>
    /// Runs actors until <paramref name="task"/> completes and returns its result. Completions
    /// that hop through the thread pool (Ask replies, PipeTo) are waited for as events, bounded by
    /// <see cref="RealTimeLimit"/>; virtual time does not move.
    /// </summary>
    public T Await<T>(Task<T> task)
    {
        ArgumentNullException.ThrowIfNull(task);
        AwaitCore(task);
        return task.GetAwaiter().GetResult();
    }

    public void Await(Task task)
    {
        ArgumentNullException.ThrowIfNull(task);
        AwaitCore(task);
        task.GetAwaiter().GetResult();
    }

    private void AwaitCore(Task task)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (!task.IsCompleted)
        {
            var work = Dispatcher.WhenWorkArrives();
            if (RunUntilIdle() > 0)
            {
                continue;
            }

            var left = RealTimeLimit - TimeProvider.System.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"Task not completed within {RealTimeLimit} of real time while actors were idle");
            }

            // Either the task completes on a pool thread or that thread schedules actor work.
            Task.WaitAny([task, work], left);
        }
    }

    public ValueTask DisposeAsync()
    {
        var terminated = System.Terminate();
        RunUntilIdle();
        if (!terminated.IsCompleted)
        {
            AwaitCore(terminated);
        }

        return ValueTask.CompletedTask;
    }
}
