using Legacy.Actors.Timers;

namespace Legacy.Actors.Runtime;

/// <summary>
/// The parts of a cell most actors never use (children, watches, stash, timers, behaviour),
/// allocated on first use so an idle leaf actor stays small.
/// </summary>
internal sealed class CellExtras
{
    /// <summary>Guarded by locking this object (top-level actors are created from any thread).</summary>
    public Dictionary<string, ActorCell>? Children;
    public int NameCounter;
    public Dictionary<ActorCell, RestartStats>? RestartStats;

    public HashSet<ActorRef>? Watching;
    public HashSet<ActorRef>? WatchedBy;
    public HashSet<ActorRef>? TerminatedQueued;

    public List<(object Message, ActorRef? Sender)>? Stash;
    public Queue<(object Message, ActorRef? Sender)>? Unstashed;

    public TimerScheduler? Timers;
    public Action<object>? Behavior;
    public TaskCompletionSource? Termination;

    /// <summary>The instance a restart replaces, kept until its successor is built.</summary>
    public Actor? Retired;

    /// <summary>A restart waiting for the old instance's children to stop.</summary>
    public Exception? PendingRecreate;
    public int PendingStops;
}

/// <summary>A supervisor's memory of one child's consecutive failures.</summary>
internal sealed class RestartStats
{
    public int Failures;
    public long LastFailure;
    public ITimer? Pending;
}
