using Cluster.Raft.Wire;

namespace Cluster.Raft.Core;

/// <summary>
/// The log as the core sees it: entries after the snapshot point, how far they are persisted
/// (<see cref="Stable"/>), committed and applied, and the configuration each membership entry
/// brings in. Pure bookkeeping; the driver persists.
/// </summary>
internal sealed class RaftLog
{
    private readonly List<Entry> _entries = [];

    // Membership entries after the snapshot and the configuration each one results in.
    private readonly List<(ulong Index, ConfState Conf)> _confs = [];
    private ConfState _snapshotConf;

    public RaftLog(SnapshotMeta snapshot, IReadOnlyList<Entry> persisted, ulong committed)
    {
        SnapshotIndex = snapshot.Index;
        SnapshotTerm = snapshot.Term;
        _snapshotConf = snapshot.Conf ?? new ConfState();
        foreach (var entry in persisted)
        {
            Add(entry);
        }

        Stable = LastIndex;
        Committed = Math.Min(Math.Max(committed, SnapshotIndex), LastIndex);
        Applied = SnapshotIndex;
    }

    public ulong SnapshotIndex { get; private set; }

    public ulong SnapshotTerm { get; private set; }

    /// <summary>The newest configuration in the log, committed or not (thesis §4.1).</summary>
    public ConfState Config => _confs.Count > 0 ? _confs[^1].Conf : _snapshotConf;

    /// <summary>Index of the entry that brought in <see cref="Config"/> (the snapshot's index if none since).</summary>
    public ulong ConfigIndex => _confs.Count > 0 ? _confs[^1].Index : SnapshotIndex;

    public SnapshotMeta Snapshot => new() { Index = SnapshotIndex, Term = SnapshotTerm, Conf = _snapshotConf };

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

    public void AppendAsLeader(Entry entry) => Add(entry);

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
            if (from > LastIndex + 1)
            {
                return AppendResult.Refused; // not contiguous with our log (a well-formed message cannot do this)
            }

            if (from <= LastIndex)
            {
                _entries.RemoveRange((int)(from - SnapshotIndex - 1), (int)(LastIndex - from + 1));
                _confs.RemoveAll(c => c.Index >= from); // a dropped membership entry no longer applies
                Stable = Math.Min(Stable, from - 1);
            }

            for (var i = firstConflict; i < entries.Count; i++)
            {
                Add(entries[i]);
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

    /// <summary>Drops entries through <paramref name="index"/> (applied and persisted), which a snapshot now covers.</summary>
    public SnapshotMeta Compact(ulong index)
    {
        if (index <= SnapshotIndex || index > Applied || index > Stable)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"can compact only through applied, persisted entries ({SnapshotIndex} < index <= {Math.Min(Applied, Stable)}), not {index}");
        }

        var term = TermAt(index)!.Value;
        _snapshotConf = ConfigAt(index);
        _entries.RemoveRange(0, (int)(index - SnapshotIndex));
        _confs.RemoveAll(c => c.Index <= index);
        SnapshotIndex = index;
        SnapshotTerm = term;
        return Snapshot;
    }

    /// <summary>Replaces the whole log with a snapshot received from the leader.</summary>
    public void Restore(SnapshotMeta snapshot)
    {
        _entries.Clear();
        _confs.Clear();
        _snapshotConf = snapshot.Conf ?? new ConfState();
        SnapshotIndex = snapshot.Index;
        SnapshotTerm = snapshot.Term;
        Stable = Committed = Applied = snapshot.Index;
    }

    private ConfState ConfigAt(ulong index)
    {
        for (var i = _confs.Count - 1; i >= 0; i--)
        {
            if (_confs[i].Index <= index)
            {
                return _confs[i].Conf;
            }
        }

        return _snapshotConf;
    }

    private void Add(Entry entry)
    {
        _entries.Add(entry);
        if (entry.Type is EntryType.ConfChange or EntryType.ConfState)
        {
            _confs.Add((entry.Index, Membership.After(Config, entry)));
        }
    }
}
