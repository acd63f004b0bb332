using Cluster.Raft.Wire;

namespace Cluster.Raft.Storage;

/// <summary>What a write-ahead log held when it was opened.</summary>
public sealed record RecoveredLog(
    HardState HardState,
    SnapshotMark Snapshot,
    IReadOnlyList<Entry> Entries,
    long RepairedBytes);
