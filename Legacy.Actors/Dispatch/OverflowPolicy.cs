namespace Legacy.Actors.Dispatch;

/// <summary>What a bounded mailbox does with a message that does not fit.</summary>
public enum OverflowPolicy
{
    /// <summary>The new message goes to dead letters; the queue keeps what it has.</summary>
    DropNewest,

    /// <summary>The oldest queued message goes to dead letters to make room (latest wins).</summary>
    DropOldest,
}
