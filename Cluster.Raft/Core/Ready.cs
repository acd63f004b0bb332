using Cluster.Raft.Wire;

namespace Cluster.Raft.Core;

/// <summary>
/// What the core asks of its driver, in this order: install <see cref="Snapshot"/> (when not
/// null: the snapshot received from the leader replaces the state machine and the log), persist
/// <see cref="HardState"/> (when not null) and <see cref="Entries"/> durably, then send <see cref="Messages"/>, then apply
/// <see cref="CommittedEntries"/>; finally call <c>RaftNode.Advance</c>. Messages may
/// promise what is persisted here (votes, acknowledgements), so they must not leave first.
/// </summary>
public sealed record Ready(
    HardState? HardState,
    IReadOnlyList<Entry> Entries,
    IReadOnlyList<Message> Messages,
    IReadOnlyList<Entry> CommittedEntries,
    RaftRole Role,
    ulong Leader,
    ulong Term,
    IReadOnlyList<ReadState> ReadStates)
{
    public SnapshotMeta? Snapshot { get; init; }
}
