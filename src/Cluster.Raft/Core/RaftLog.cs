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
    /// and commit up to the leader's commit. <see cref="AppendResult.Refused"/> (nothing changed)
    /// when the message would rewrite a committed entry: no correct leader sends that, so it is
    /// dropped rather than obeyed.
    /// </summary>
    public AppendResult TryAppend(ulong prevIndex, ulong prevTerm, ulong leaderCommit, IReadOnlyList<Entry> entries, out ulong lastNew)
    {
        lastNew = 0;
        if (TermAt(prevIndex) != prevTerm)
        {
            return AppendResult.Mismatch;
        }

        var firstConflict = -1;
        for (var i = 0; i < entries.Count; i++)
        {
            var existing = TermAt(entries[i].Index);
            if (existing != entries[i].Term)
            {
                if (existing is not null && entries[i].Index <= Committed)
                {
                    return AppendResult.Refused;
                }

                firstConflict = i;
                break;
            }
        }

        if (firstConflict >= 0)
        {
            var from = entries[firstConflict].Index;
            if (from <= LastIndex)
            {
                _entries.RemoveRange((int)(from - SnapshotIndex - 1), (int)(LastIndex - from + 1));
                Stable = Math.Min(Stable, from - 1);
            }

            if (from != LastIndex + 1)
            {
                return AppendResult.Refused; // not contiguous with our log (a well-formed message cannot do this)
            }

            for (var i = firstConflict; i < entries.Count; i++)
            {
                _entries.Add(entries[i]);
            }
        }

        lastNew = prevIndex + (ulong)entries.Count;
        CommitTo(Math.Min(leaderCommit, lastNew));
        return AppendResult.Accepted;
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
