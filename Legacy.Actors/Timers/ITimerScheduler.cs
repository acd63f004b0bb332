namespace Legacy.Actors.Timers;

/// <summary>
/// Timers owned by one actor: each delivers a message to the actor itself. Starting a
/// timer with a key in use replaces it; a cancelled or replaced timer never delivers, even if
/// it had already fired into the mailbox. All timers end when the actor stops or restarts.
/// </summary>
public interface ITimerScheduler
{
    void StartSingleTimer(object key, object message, TimeSpan delay);

    /// <summary>Delivers every <paramref name="interval"/> (fixed rate, no catch-up burst).</summary>
    void StartPeriodicTimer(object key, object message, TimeSpan interval);

    bool IsTimerActive(object key);

    void Cancel(object key);

    void CancelAll();
}
