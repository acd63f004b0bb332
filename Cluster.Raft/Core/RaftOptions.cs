namespace Cluster.Raft.Core;

/// <summary>One node's Raft settings. Time is counted in ticks, which the driver produces.</summary>
public sealed record RaftOptions
{
    /// <summary>This node's id (non-zero, unique in the cluster).</summary>
    public required ulong Id { get; init; }

    /// <summary>A follower that hears no leader for a random 1–2× this many ticks campaigns.</summary>
    public int ElectionTicks { get; init; } = 10;

    /// <summary>A leader sends heartbeats this often.</summary>
    public int HeartbeatTicks { get; init; } = 1;

    /// <summary>Ask for votes without raising the term first, so a node cut off from the cluster cannot disrupt it when it returns.</summary>
    public bool PreVote { get; init; } = true;

    /// <summary>A leader that has not heard from a quorum within an election timeout steps down.</summary>
    public bool CheckQuorum { get; init; } = true;

    /// <summary>AppendEntries messages in flight to one follower (pipelining window).</summary>
    public int MaxInflight { get; init; } = 256;

    /// <summary>Entries per AppendEntries message.</summary>
    public int MaxEntriesPerMessage { get; init; } = 512;
}
