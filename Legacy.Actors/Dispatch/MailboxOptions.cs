namespace Legacy.Actors.Dispatch;

/// <summary>
/// Capacity and overflow of one actor's user-message queue. System messages (lifecycle,
/// supervision, death watch) use a separate queue that is never bounded, so an overflowing
/// mailbox cannot lose a stop or a Terminated notification.
/// </summary>
public sealed record MailboxOptions
{
    /// <summary>No limit: the default, as in Akka; choose a bound for actors fed from the network.</summary>
    public static MailboxOptions Unbounded { get; } = new();

    /// <summary>Most user messages queued at once; null means unbounded.</summary>
    public int? Capacity { get; init; }

    public OverflowPolicy Overflow { get; init; } = OverflowPolicy.DropNewest;

    public static MailboxOptions Bounded(int capacity, OverflowPolicy overflow = OverflowPolicy.DropNewest)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        return new MailboxOptions { Capacity = capacity, Overflow = overflow };
    }
}
