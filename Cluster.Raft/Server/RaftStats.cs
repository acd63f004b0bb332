using Cluster.Raft.Core;
using Cluster.Raft.Wire;

namespace Cluster.Raft.Server;

/// <summary>A moment's view of one server.</summary>
public sealed record RaftStats(
    ulong Id,
    RaftRole Role,
    ulong Term,
    ulong Leader,
    string LeaderAddress,
    ulong LastIndex,
    ulong Committed,
    ulong Applied,
    ulong SnapshotIndex,
    ConfState Configuration,
    IReadOnlyDictionary<ulong, ulong> Matches,
    long Fsyncs,
    long Proposals,
    long DroppedOutbound,
    DateTimeOffset? LastContact);
