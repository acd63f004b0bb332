namespace Cluster.Testing.Actors;

/// <summary>How a probe lets time pass while it waits: virtually (the test kit) or really.</summary>
public interface IProbeScheduler
{
    TimeProvider Time { get; }

    /// <summary>
    /// Lets the system run until <paramref name="condition"/> holds or <paramref name="max"/>
    /// has passed on <see cref="Time"/> (then the whole of <paramref name="max"/> has passed);
    /// <paramref name="signal"/> is released whenever the condition may have changed.
    /// </summary>
    bool RunUntil(Func<bool> condition, TimeSpan max, SemaphoreSlim signal);
}

/// <summary>Real time, real threads: for systems on the thread-pool dispatcher (remoting, processes).</summary>
public sealed class RealTimeScheduler : IProbeScheduler
{
    public static RealTimeScheduler Instance { get; } = new();

    public TimeProvider Time => TimeProvider.System;

    public bool RunUntil(Func<bool> condition, TimeSpan max, SemaphoreSlim signal)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(signal);
        var start = Time.GetTimestamp();
        while (!condition())
        {
            var left = max - Time.GetElapsedTime(start);
            if (left <= TimeSpan.Zero || !signal.Wait(left))
            {
                return condition();
            }
        }

        return true;
    }
}
