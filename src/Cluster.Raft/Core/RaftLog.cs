using Cluster.Raft.Wire;

namespace Cluster.Raft.Core;

/// <summary>
/// The log as the core sees it: entries after the snapshot point, how far they are persisted
/// (<see cref="Stable"/>), committed and applied. Pure bookkeeping; the driver persists.
/// </summary>
internal sealed class RaftLog
{
    private readonly List<Entry> _entries = [];

    public RaftLog(ulong snapshotIndex, ulong snapshotTerm, IReadOnlyList<Entry> persisted, ulong committed)
    {
        SnapshotIndex = snapshotIndex;
        SnapshotTerm = snapshotTerm;
        _entries.AddRange(persisted);
        Stable = LastIndex;
        Committed = Math.Max(committed, snapshotIndex);
        Applied = snapshotIndex;
    }

    public ulong SnapshotIndex { get; }

    public ulong SnapshotTerm { get; }

    /// <summary>Highest index known to be durable on this node.</summary>
    public ulong Stable { get; private set; }

    public ulong Committed { get; private set; }

    public ulong Applied { get; private set; }

    public ulong LastIndex => _entries.Count == 0 ? SnapshotIndex : _entries[^1].Index;

    public ulong LastTerm => TermAt(LastIndex) ?? 0;

    /// <summary>The term of the entry at <paramref name="index"/>, or null if it is not in the log.</summary>
    public ulong? TermAt(ulong index)
    {
        if (index == SnapshotIndex)
        {
            return SnapshotTerm;
        }

        if (index < SnapshotIndex || index > LastIndex)
        {
            return null;
        }

        return _entries[(int)(index - SnapshotIndex - 1)].Term;
    }

    /// <summary>Raft §5.4.1: is a log ending at (<paramref name="lastTerm"/>, <paramref name="lastIndex"/>) at least as up to date as ours?</summary>
    public bool IsUpToDate(ulong lastIndex, ulong lastTerm) =>
        lastTerm > LastTerm || (lastTerm == LastTerm && lastIndex >= LastIndex);

    public void AppendAsLeader(Entry entry) => _entries.Add(entry);

    /// <summary>
    /// A follower's AppendEntries (§5.3): if our log has (<paramref name="prevIndex"/>,
    /// <paramref name="prevTerm"/>), keep what matches, cut at the first conflict, add the rest,
    /// and commit up to the leader's commit; returns the last index the message covers, or null
    /// when the consistency check fails.
    /// </summary>
    public ulong? TryAppend(ulong prevIndex, ulong prevTerm, ulong leaderCommit, IReadOnlyList<Entry> entries)
    {
        if (TermAt(prevIndex) != prevTerm)
        {
            return null;
        }

        foreach (var entry in entries)
        {
            var existing = TermAt(entry.Index);
            if (existing == entry.Term)
            {
                continue;
            }

            if (existing is not null)
            {
                if (entry.Index <= Committed)
                {
                    throw new InvalidOperationException($"raft safety: entry {entry.Index} is committed but the leader sent term {entry.Term} over term {existing}");
                }

                _entries.RemoveRange((int)(entry.Index - SnapshotIndex - 1), (int)(LastIndex - entry.Index + 1));
                Stable = Math.Min(Stable, entry.Index - 1);
            }

            if (entry.Index != LastIndex + 1)
            {
                return null; // a hole: the message is malformed or reordered; the leader will probe
            }

            _entries.Add(entry);
        }

        var lastNew = prevIndex + (ulong)entries.Count;
        CommitTo(Math.Min(leaderCommit, lastNew));
        return lastNew;
    }

    public void CommitTo(ulong index)
    {
        if (index > Committed)
        {
            Committed = Math.Min(index, LastIndex);
        }
    }

    /// <summary>Entries from <paramref name="from"/> on, at most <paramref name="max"/>.</summary>
    public List<Entry> Slice(ulong from, int max)
    {
        if (from <= SnapshotIndex || from > LastIndex)
        {
            return [];
        }

        var start = (int)(from - SnapshotIndex - 1);
        return _entries.GetRange(start, Math.Min(max, _entries.Count - start));
    }

    /// <summary>Entries not yet persisted.</summary>
    public List<Entry> Unstable() => Slice(Stable + 1, int.MaxValue);

    /// <summary>Committed entries not yet applied, limited to what is persisted here.</summary>
    public List<Entry> Applicable()
    {
        var upTo = Math.Min(Committed, Stable);
        return upTo <= Applied ? [] : Slice(Applied + 1, (int)(upTo - Applied));
    }

    public void StableTo(ulong index)
    {
        if (index <= LastIndex && index > Stable)
        {
            Stable = index;
        }
    }

    public void AppliedTo(ulong index) => Applied = Math.Max(Applied, index);
}
