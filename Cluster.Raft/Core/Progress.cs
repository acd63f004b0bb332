namespace Cluster.Raft.Core;

/// <summary>The leader's view of one follower's log (Raft's nextIndex and matchIndex, plus flow control).</summary>
internal sealed class Progress(ulong next)
{
    public ulong Match { get; set; }

    public ulong Next { get; set; } = next;

    /// <summary>Probing sends one AppendEntries and waits; replicating pipelines up to the in-flight window.</summary>
    public bool Probing { get; set; } = true;

    /// <summary>A probe is out and unanswered.</summary>
    public bool ProbeSent { get; set; }

    public int Inflight { get; set; }

    /// <summary>Index of the snapshot being sent to this follower (0: none); appends wait for it.</summary>
    public ulong PendingSnapshot { get; set; }

    /// <summary>The leader's tick at which it sent the newest heartbeat this follower answered (for the read lease).</summary>
    public long AckedTick { get; set; } = long.MinValue;

    /// <summary>Heard from since the last check-quorum round.</summary>
    public bool RecentActive { get; set; }
}
