using Legacy.Actors.Runtime;
using Legacy.Actors.Timers;

namespace Legacy.Actors;

/// <summary>
/// Base of every actor. The runtime calls <see cref="Receive"/> with one message at a time,
/// never concurrently, so an actor's fields need no locks. Create actors only through
/// <see cref="Props"/>; constructing one directly throws.
/// </summary>
public abstract class Actor
{
    private readonly ActorCell _cell;

    protected Actor()
    {
        _cell = ActorCell.Constructing ?? throw new InvalidOperationException(
            $"{GetType().Name} must be created by the actor system (Props.Create and ActorOf), not with new");
    }

    internal ActorCell Cell => _cell;

    // The runtime's entry points: the hooks stay protected so that user overrides need no
    // 'internal', even in assemblies that see our internals.
    internal void RunReceive(object message) => Receive(message);

    internal void RunPreStart() => PreStart();

    internal void RunPostStop() => PostStop();

    internal void RunPreRestart(Exception cause) => PreRestart(cause);

    internal void RunPostRestart(Exception cause) => PostRestart(cause);

    protected IActorContext Context => _cell;

    protected ActorRef Self => _cell;

    protected ActorRef Sender => _cell.Sender;

    protected ITimerScheduler Timers => _cell.Timers;

    /// <summary>Handles one message; call <see cref="Unhandled"/> for messages it does not know.</summary>
    protected abstract void Receive(object message);

    protected virtual void PreStart()
    {
    }

    protected virtual void PostStop()
    {
    }

    /// <summary>Before a restart, on the failed instance: by default stops the children and runs PostStop.</summary>
    protected virtual void PreRestart(Exception cause)
    {
        foreach (var child in Context.Children)
        {
            Context.Stop(child);
        }

        PostStop();
    }

    /// <summary>After a restart, on the new instance: by default runs PreStart.</summary>
    protected virtual void PostRestart(Exception cause) => PreStart();

    /// <summary>Publishes the message as <see cref="UnhandledMessage"/> and logs it.</summary>
    protected void Unhandled(object message) => _cell.Unhandled(message);

    /// <summary>Tells the sender of the current message.</summary>
    protected void Reply(object message) => Sender.Tell(message, Self);

    /// <summary>Sets the current message aside until <see cref="UnstashAll"/>.</summary>
    protected void Stash() => _cell.StashCurrent();

    /// <summary>Puts stashed messages back in front of the mailbox, in their original order.</summary>
    protected void UnstashAll() => _cell.UnstashAll();
}
