using Legacy.Actors.Dispatch;
using Legacy.Actors.Supervision;

namespace Legacy.Actors;

/// <summary>
/// How to make an actor: a factory (called again on every restart, which is what resets the
/// state), its mailbox, and the strategy it applies to its own children. Share one instance
/// across many actors of a kind: props cost nothing per actor.
/// </summary>
public sealed record Props
{
    public required Func<Actor> Factory { get; init; }

    public MailboxOptions Mailbox { get; init; } = MailboxOptions.Unbounded;

    /// <summary>Strategy for this actor's children; <see cref="SupervisorStrategy.Default"/> when null.</summary>
    public SupervisorStrategy? SupervisorStrategy { get; init; }

    /// <summary>Most messages <see cref="Actor.Stash"/> may hold; stashing one more fails the actor.</summary>
    public int StashCapacity { get; init; } = 10_000;

    public static Props Create(Func<Actor> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        return new Props { Factory = factory };
    }

    public static Props Create<TActor>()
        where TActor : Actor, new() => new() { Factory = static () => new TActor() };
}
