using Legacy.Actors.Timers;

namespace Legacy.Actors;

/// <summary>
/// An actor's view of the runtime, valid only on the actor's own turn (inside Receive and the
/// lifecycle hooks): creating and stopping children, death watch, behaviour and timers.
/// </summary>
public interface IActorContext
{
    ActorSystem System { get; }

    ActorRef Self { get; }

    ActorRef Parent { get; }

    /// <summary>Sender of the message being handled; dead letters when there is none.</summary>
    ActorRef Sender { get; }

    IReadOnlyCollection<ActorRef> Children { get; }

    ITimerScheduler Timers { get; }

    /// <summary>Creates a child; the name must be unique among live siblings.</summary>
    ActorRef ActorOf(Props props, string? name = null);

    ActorRef? Child(string name);

    /// <summary>Stops self or a child after its current message; other actors are refused.</summary>
    void Stop(ActorRef actor);

    /// <summary>Asks for a <see cref="Terminated"/> message when <paramref name="subject"/> stops (once, even if it already has).</summary>
    ActorRef Watch(ActorRef subject);

    /// <summary>Cancels a watch; a Terminated already queued for it is dropped.</summary>
    void Unwatch(ActorRef subject);

    /// <summary>Handles the next messages with <paramref name="receive"/> instead of Receive.</summary>
    void Become(Action<object> receive);

    /// <summary>Back to Receive.</summary>
    void Unbecome();
}
