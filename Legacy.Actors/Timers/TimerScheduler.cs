using Legacy.Actors.Runtime;

namespace Legacy.Actors.Timers;

/// <summary>
/// An actor's timers. Each fire enqueues a <see cref="TimerFired"/> naming its entry; the cell
/// delivers the message only if that entry is still current, which makes cancel and replace
/// exact even when the tick is already in the mailbox. Used on the actor's turn only, except
/// the fire callbacks, which only enqueue.
/// </summary>
internal sealed class TimerScheduler(ActorCell owner, TimeProvider time) : ITimerScheduler
{
    private readonly Dictionary<object, TimerEntry> _timers = [];

    public void StartSingleTimer(object key, object message, TimeSpan delay) => Start(key, message, delay, periodic: false);

    public void StartPeriodicTimer(object key, object message, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        Start(key, message, interval, periodic: true);
    }

    public bool IsTimerActive(object key) => _timers.ContainsKey(key);

    public void Cancel(object key)
    {
        if (_timers.Remove(key, out var entry))
        {
            entry.Timer?.Dispose();
        }
    }

    public void CancelAll()
    {
        foreach (var entry in _timers.Values)
        {
            entry.Timer?.Dispose();
        }

        _timers.Clear();
    }

    /// <summary>The message to deliver for this tick, or null when the timer was cancelled or replaced.</summary>
    internal object? Accept(TimerFired fired)
    {
        var entry = fired.Entry;
        if (!_timers.TryGetValue(entry.Key, out var current) || !ReferenceEquals(current, entry))
        {
            return null;
        }

        if (entry.Periodic)
        {
            Volatile.Write(ref entry.InFlight, 0);
        }
        else
        {
            _timers.Remove(entry.Key);
            entry.Timer?.Dispose();
        }

        return entry.Message;
    }

    private void Start(object key, object message, TimeSpan delay, bool periodic)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        Cancel(key);
        var entry = new TimerEntry(owner, key, message, periodic);
        _timers[key] = entry;
        entry.Timer = time.CreateTimer(static state => ((TimerEntry)state!).Fire(), entry, delay, periodic ? delay : Timeout.InfiniteTimeSpan);
    }
}

internal sealed class TimerEntry(ActorCell owner, object key, object message, bool periodic)
{
    public object Key { get; } = key;

    public object Message { get; } = message;

    public bool Periodic { get; } = periodic;

    public ITimer? Timer { get; set; }

    /// <summary>Periodic timers keep at most one tick queued, so a busy actor is not buried in ticks.</summary>
    public int InFlight;

    public void Fire()
    {
        if (Periodic && Interlocked.Exchange(ref InFlight, 1) == 1)
        {
            return;
        }

        owner.EnqueueBypassingCapacity(new TimerFired(this), null);
    }
}

internal sealed class TimerFired(TimerEntry entry)
{
    public TimerEntry Entry { get; } = entry;
}
