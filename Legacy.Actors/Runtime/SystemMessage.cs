namespace Legacy.Actors.Runtime;

/// <summary>
/// Lifecycle traffic between actors and the runtime. System messages have their own
/// unbounded queue and are handled before any user message, so supervision and death watch
/// work even when a mailbox is full or the actor is suspended.
/// </summary>
internal abstract class SystemMessage
{
    /// <summary>Link in the receiving cell's inbox; a system message is queued once.</summary>
    public SystemMessage? Next;
}

/// <summary>First message of every cell: build the actor and run PreStart.</summary>
internal sealed class Create : SystemMessage;

/// <summary>Stop: children first, then PostStop, then watchers are told.</summary>
internal sealed class Terminate : SystemMessage;

/// <summary>The supervisor chose Resume: keep the instance and its state.</summary>
internal sealed class Resume : SystemMessage;

/// <summary>The supervisor chose Restart: a fresh instance from the props.</summary>
internal sealed class Recreate(Exception cause) : SystemMessage
{
    public Exception Cause { get; } = cause;
}

/// <summary>A child failed and is suspended until its supervisor decides.</summary>
internal sealed class Failed(ActorRef child, int childUid, Exception cause) : SystemMessage
{
    public ActorRef Child { get; } = child;

    public int ChildUid { get; } = childUid;

    public Exception Cause { get; } = cause;
}

internal sealed class Watch(ActorRef watchee, ActorRef watcher) : SystemMessage
{
    public ActorRef Watchee { get; } = watchee;

    public ActorRef Watcher { get; } = watcher;
}

internal sealed class Unwatch(ActorRef watchee, ActorRef watcher) : SystemMessage
{
    public ActorRef Watchee { get; } = watchee;

    public ActorRef Watcher { get; } = watcher;
}

/// <summary>Sent by a stopped actor to its watchers and its parent.</summary>
internal sealed class DeathWatchNotification(ActorRef actor, bool existenceConfirmed, bool addressTerminated) : SystemMessage
{
    public ActorRef Actor { get; } = actor;

    public bool ExistenceConfirmed { get; } = existenceConfirmed;

    public bool AddressTerminated { get; } = addressTerminated;
}
