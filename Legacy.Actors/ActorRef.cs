using Legacy.Actors.Runtime;

namespace Legacy.Actors;

/// <summary>
/// The only handle to an actor, local or remote alike. Telling never blocks and never
/// throws for an absent recipient: what cannot be delivered goes to dead letters.
/// Two refs are equal when they name the same incarnation (path and uid).
/// </summary>
public abstract class ActorRef : IEquatable<ActorRef>
{
    private protected ActorRef()
    {
    }

    public abstract ActorPath Path { get; }

    /// <summary>Tells incarnations of one path apart; 0 when unknown.</summary>
    public abstract int Uid { get; }

    /// <summary>True when the actor lives in this process.</summary>
    public virtual bool IsLocal => true;

    /// <summary>
    /// Queues <paramref name="message"/> for the actor. Delivery is at most once; messages
    /// from one sender to one recipient arrive in the order they were told.
    /// </summary>
    public abstract void Tell(object message, ActorRef? sender = null);

    internal abstract void SendSystem(SystemMessage message);

    /// <summary>The local system this reference belongs to (for a remote actor: the system that holds the reference).</summary>
    internal abstract ActorSystem Home { get; }

    public bool Equals(ActorRef? other) =>
        ReferenceEquals(this, other) || (other is not null && Uid == other.Uid && Path.Equals(other.Path));

    public override bool Equals(object? obj) => Equals(obj as ActorRef);

    // Uids are random per incarnation, so they spread well and cost nothing to read.
    public override int GetHashCode() => Uid;

    public override string ToString() => $"[{Path}#{Uid}]";

    public static bool operator ==(ActorRef? left, ActorRef? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(ActorRef? left, ActorRef? right) => !(left == right);
}
