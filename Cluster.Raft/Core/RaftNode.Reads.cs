using Cluster.Raft.Wire;
using Google.Protobuf;

namespace Cluster.Raft.Core;

/// <summary>
/// Reads. ReadIndex: the leader notes its commit index for a read, then confirms it still leads by a
/// heartbeat round that a quorum answers; only then is the read index released. A leader that
/// has not yet committed an entry of its own term does not know the latest commit, so reads
/// wait for that first commit. Lease: each heartbeat carries the leader's tick and the answer
/// echoes it; followers refuse votes for an election timeout after hearing from their leader
/// (check-quorum) and for an election timeout after they start (a restart forgets the leader),
/// so while a quorum answered a heartbeat sent less than <see cref="LeaseTicks"/> ago, no other
/// leader can exist and the commit index can be released at once. Ticks stand for real time
/// only if the driver keeps them there: it calls <see cref="TickTo"/> with its monotonic clock
/// before every input, so a leader that was paused judges its lease by the time that passed.
/// </summary>
public sealed partial class RaftNode
{
    /// <summary>Marks a forwarded READ_INDEX (in its index field) as allowing a lease read.</summary>
    private const ulong LeaseRequested = 1;

    private long _now;
    private bool _leaseRevoked;

    /// <summary>
    /// The lease's length: an election timeout less two ticks — one for the phase between the
    /// leader's and a follower's tick, one for clock drift.
    /// </summary>
    private int LeaseTicks => _options.ElectionTicks - 2;

    /// <summary>True while this leader holds a read lease.</summary>
    public bool HasLease => Role == RaftRole.Leader && LeaseValid();

    /// <summary>Ticks taken so far (the clock heartbeats carry).</summary>
    public long Ticks => _now;

    /// <summary>The length of a lease in ticks, counted from the tick its heartbeat was sent at.</summary>
    public int LeaseLength => LeaseTicks;

    /// <summary>
    /// While this leader may answer lease reads at once (it holds the lease and has committed an
    /// entry of its term): the tick of the heartbeat round whose quorum of answers grants it; the
    /// lease lasts <see cref="LeaseLength"/> ticks from then. Null otherwise.
    /// </summary>
    public long? LeaseStart
    {
        get
        {
            if (Role != RaftRole.Leader || !LeaseValid() || _log.TermAt(_log.Committed) != Term)
            {
                return null;
            }

            return Conf.Voters.Select(v => v == Id ? _now : _progress.TryGetValue(v, out var p) ? p.AckedTick : long.MinValue).OrderDescending().ElementAt(Quorum - 1);
        }
    }

    private void Read(ulong requester, ByteString context, ReadMode mode)
    {
        if (mode == ReadMode.Lease && LeaseValid() && _log.TermAt(_log.Committed) == Term)
        {
            Release(new PendingRead(requester, context) { Index = _log.Committed });
            return;
        }

        StartRead(requester, context);
    }

    private bool LeaseValid()
    {
        if (!_options.CheckQuorum || _leaseRevoked || _transferee != 0 || !Conf.IsVoter(Id))
        {
            return false; // without check-quorum followers do not hold back their votes, so there is no lease
        }

        var acked = Conf.Voters.Select(v => v == Id ? _now : _progress.TryGetValue(v, out var p) ? p.AckedTick : long.MinValue).OrderDescending().ToList();
        var start = acked[Quorum - 1];
        return start != long.MinValue && _now - start < LeaseTicks;
    }

    private void StartRead(ulong requester, ByteString context)
    {
        var read = new PendingRead(requester, context) { Index = _log.Committed };
        _pendingReads.Add(read);
        if (_log.TermAt(_log.Committed) != Term)
        {
            read.WaitingForCommit = true;
            return;
        }

        BroadcastReadHeartbeat(read);
    }

    private void StartWaitingReads()
    {
        foreach (var read in _pendingReads.Where(r => r.WaitingForCommit).ToList())
        {
            read.WaitingForCommit = false;
            read.Index = _log.Committed;
            BroadcastReadHeartbeat(read);
        }
    }

    private void BroadcastReadHeartbeat(PendingRead read)
    {
        if (Conf.IsVoter(Id))
        {
            read.Acks.Add(Id);
        }

        if (read.Acks.Count >= Quorum)
        {
            ReleaseThrough(read);
            return;
        }

        foreach (var (peer, progress) in _progress)
        {
            SendHeartbeat(peer, progress, read.Context);
        }
    }

    private void ConfirmRead(ulong from, ByteString context)
    {
        var read = _pendingReads.Find(r => !r.WaitingForCommit && r.Context.Equals(context));
        if (read is not null && Conf.IsVoter(from) && read.Acks.Add(from) && read.Acks.Count >= Quorum)
        {
            ReleaseThrough(read);
        }
    }

    /// <summary>A quorum confirmed leadership after every earlier read was asked, so those are released too, in order.</summary>
    private void ReleaseThrough(PendingRead confirmed)
    {
        var upTo = _pendingReads.IndexOf(confirmed);
        foreach (var read in _pendingReads.Take(upTo + 1).Where(r => !r.WaitingForCommit).ToList())
        {
            _pendingReads.Remove(read);
            Release(read);
        }
    }

    private void Release(PendingRead read)
    {
        if (read.Requester == Id)
        {
            _readStates.Add(new ReadState(read.Index, read.Context));
        }
        else
        {
            Send(new Message { Type = MessageType.ReadIndexResponse, To = read.Requester, Index = read.Index, Context = read.Context });
        }
    }

    private sealed class PendingRead(ulong requester, ByteString context)
    {
        public ulong Requester { get; } = requester;

        public ByteString Context { get; } = context;

        public ulong Index { get; set; }

        public bool WaitingForCommit { get; set; }

        public HashSet<ulong> Acks { get; } = [];
    }
}
