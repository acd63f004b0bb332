using Cluster.Raft.Wire;
using Google.Protobuf;

namespace Cluster.Raft.Core;

/// <summary>
/// One Raft node as a pure state machine (in the style of etcd-io/raft): inputs are
/// <see cref="Step"/> (a message), <see cref="Tick"/> (a unit of time) and
/// <see cref="Propose(ByteString)"/>; outputs come out of <see cref="GetReady"/>. No I/O, clock or thread
/// inside, and randomness only from the injected <see cref="Random"/>, so a run is a function
/// of its inputs — which is what lets a simulation replay a failing seed exactly.
/// Not thread-safe; do not Step between GetReady and Advance.
/// </summary>
public sealed partial class RaftNode
{
    private readonly RaftOptions _options;
    private readonly Random _random;
    private readonly RaftLog _log;
    private readonly Dictionary<ulong, Progress> _progress = [];
    private readonly Dictionary<ulong, bool> _votes = [];
    private List<Message> _outbox = [];
    private HardState _persisted;
    private SnapshotMeta? _receivedSnapshot;
    private int _electionElapsed;
    private int _heartbeatElapsed;
    private int _randomizedElectionTimeout;
    private ulong _transferee;
    private List<ReadState> _readStates = [];
    private readonly List<PendingRead> _pendingReads = [];

    /// <summary>
    /// Starts a founding node of a new cluster whose first configuration is <paramref name="voters"/>
    /// (with the <see cref="Membership.Bootstrap"/> log), or, given <paramref name="hardState"/>
    /// and <paramref name="entries"/>, restarts one from its disk.
    /// </summary>
    public RaftNode(RaftOptions options, IReadOnlyCollection<ulong> voters, Random random, HardState? hardState = null, IReadOnlyList<Entry>? entries = null)
        : this(options, new SnapshotMeta(), random, hardState ?? Membership.Bootstrap(Membership.Voters(voters)).HardState, entries ?? Membership.Bootstrap(Membership.Voters(voters)).Entries)
    {
        if (!voters.Contains(options.Id))
        {
            throw new ArgumentException($"node {options.Id} must be one of the voters ({string.Join(",", voters)})", nameof(voters));
        }
    }

    /// <summary>
    /// Starts a node from what its disk holds: the newest snapshot's metadata (index 0 if none),
    /// the hard state and the entries after the snapshot. A founding node starts with the
    /// <see cref="Membership.Bootstrap"/> log; a server waiting to be added starts empty and
    /// learns the configuration from the leader.
    /// </summary>
    public RaftNode(RaftOptions options, SnapshotMeta snapshot, Random random, HardState? hardState = null, IReadOnlyList<Entry>? entries = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(snapshot);
        if (options.Id == 0)
        {
            throw new ArgumentException("the node id must not be 0", nameof(options));
        }

        _options = options;
        _random = random ?? throw new ArgumentNullException(nameof(random));
        hardState ??= new HardState();
        Term = hardState.Term;
        Vote = hardState.Vote;
        _log = new RaftLog(snapshot, entries ?? [], hardState.Commit);
        _persisted = new HardState { Term = Term, Vote = Vote, Commit = _log.Committed };
        BecomeFollower(Term, 0);
    }

    public ulong Id => _options.Id;

    public ulong Term { get; private set; }

    public ulong Vote { get; private set; }

    public ulong Leader { get; private set; }

    public RaftRole Role { get; private set; }

    public ulong Committed => _log.Committed;

    public ulong LastIndex => _log.LastIndex;

    /// <summary>The node leadership is being handed to, or 0.</summary>
    public ulong Transferee => _transferee;

    /// <summary>Messages dropped as malformed or as contradicting committed history (a sign of a bug or a hostile peer).</summary>
    public long RefusedMessages { get; private set; }

    /// <summary>The newest configuration in this node's log (committed or not).</summary>
    public ConfState Configuration => _log.Config.Clone();

    /// <summary>The snapshot the log starts after (index, term and configuration).</summary>
    public SnapshotMeta Snapshot => _log.Snapshot;

    public ulong Applied => _log.Applied;

    private ConfState Conf => _log.Config;

    private int Quorum => (Conf.Voters.Count / 2) + 1;

    /// <summary>Entries in the log (for tests and the driver's recovery checks).</summary>
    internal RaftLog Log => _log;

    /// <summary>Appends a command if this node leads; false otherwise (the caller redirects to <see cref="Leader"/>).</summary>
    public bool Propose(ByteString data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Propose([data]);
    }

    /// <summary>
    /// Appends a batch of commands with one round of AppendEntries (the driver gathers what
    /// arrived while the last Ready was being written); false if this node does not lead.
    /// </summary>
    public bool Propose(IReadOnlyList<ByteString> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (Role != RaftRole.Leader || _transferee != 0)
        {
            return false; // not leading, or handing over: the caller retries at the new leader
        }

        foreach (var data in batch)
        {
            _log.AppendAsLeader(new Entry { Term = Term, Index = _log.LastIndex + 1, Data = data ?? throw new ArgumentException("a null command", nameof(batch)) });
        }

        BroadcastAppend();
        return true;
    }

    /// <summary>
    /// Proposes one membership change (thesis §4.1): refused unless this node leads, the
    /// previous change is committed, and an entry of this term is committed (so a change never
    /// races one left uncommitted by an earlier leader). Takes effect on each node as soon as it
    /// is in that node's log.
    /// </summary>
    public ConfChangeResult ProposeConfChange(ConfChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (Role != RaftRole.Leader || _transferee != 0)
        {
            return ConfChangeResult.NotLeader;
        }

        if (_log.ConfigIndex > _log.Committed || _log.TermAt(_log.Committed) != Term)
        {
            return ConfChangeResult.Pending;
        }

        if (Membership.Validate(Conf, change) is not null)
        {
            return ConfChangeResult.Invalid;
        }

        _log.AppendAsLeader(new Entry { Term = Term, Index = _log.LastIndex + 1, Type = EntryType.ConfChange, Data = change.ToByteString() });
        SyncProgress();
        BroadcastAppend();
        return ConfChangeResult.Accepted;
    }

    /// <summary>How far each other member's log is known to match the leader's (empty unless leading).</summary>
    public IReadOnlyDictionary<ulong, ulong> Matches() => _progress.ToDictionary(p => p.Key, p => p.Value.Match);

    /// <summary>
    /// Drops the log through <paramref name="index"/> once the driver has saved a snapshot of the
    /// state machine there; returns what that snapshot must record. Followers that need older
    /// entries get the snapshot instead.
    /// </summary>
    public SnapshotMeta Compact(ulong index) => _log.Compact(index);

    /// <summary>
    /// The transport finished sending a snapshot to <paramref name="peer"/>, or gave up. Either
    /// way the leader goes back to probing on heartbeats: after the snapshot's index if it was
    /// delivered (so a lost answer costs one probe), or from where it was, which resends the
    /// snapshot if it is still needed.
    /// </summary>
    public void ReportSnapshot(ulong peer, bool delivered)
    {
        if (Role == RaftRole.Leader && _progress.TryGetValue(peer, out var progress) && progress.PendingSnapshot != 0)
        {
            if (delivered)
            {
                progress.Next = Math.Max(progress.Next, progress.PendingSnapshot + 1);
            }

            progress.PendingSnapshot = 0;
            progress.Probing = true;
            progress.ProbeSent = false;
        }
    }

    /// <summary>
    /// Hands leadership to <paramref name="target"/>: proposals stop, the target is brought up to
    /// date, then told to campaign at once. Abandoned after an election timeout (the leader
    /// carries on). False if this node does not lead or the target is not another voter.
    /// </summary>
    public bool TransferLeadership(ulong target)
    {
        if (Role != RaftRole.Leader || target == Id || !Conf.IsVoter(target) || !_progress.TryGetValue(target, out var progress))
        {
            return false;
        }

        _transferee = target;
        _electionElapsed = 0; // the transfer has one election timeout to finish
        if (progress.Match == _log.LastIndex)
        {
            SendTimeoutNow(target);
        }
        else
        {
            SendAppend(target, progress);
        }

        return true;
    }

    /// <summary>
    /// Asks for a linearizable read: a <see cref="ReadState"/> with <paramref name="context"/>
    /// comes out of a later Ready; serve the read after applying through its index.
    /// <see cref="ReadMode.Quorum"/> is ReadIndex (thesis §6.4): the leader confirms it still leads
    /// with a heartbeat round a quorum answers. <see cref="ReadMode.Lease"/> skips that round while
    /// the leader's lease holds (§6.4.1; it relies on clocks not drifting by more than the lease's
    /// margin) and falls back to a quorum round otherwise. A follower forwards the request to its
    /// leader. Without a leader, or when leadership is lost first, nothing comes out: the caller
    /// times out and retries.
    /// </summary>
    public void ReadIndex(ByteString context, ReadMode mode = ReadMode.Quorum)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Role == RaftRole.Leader)
        {
            Read(Id, context, mode);
        }
        else if (Leader != 0)
        {
            Send(new Message { Type = MessageType.ReadIndex, To = Leader, Context = context, Index = mode == ReadMode.Lease ? LeaseRequested : 0 });
        }
    }

    /// <summary>
    /// Brings this node's clock to <paramref name="ticks"/> ticks since it started, taking every
    /// tick it missed. A driver calls this with its monotonic clock before each input, so a node
    /// that was paused (GC, SIGSTOP, a VM stall) sees its lease and election timers as expired
    /// before it acts on anything: its tick count, which heartbeats and leases are measured in,
    /// never lags real time. Beyond two election timeouts the rest of a gap is skipped in one
    /// step: by then every timer has fired as often as it matters (a leader has run two
    /// check-quorum rounds, a follower has campaigned), and a long stall must not turn into
    /// thousands of heartbeats or campaigns at once.
    /// </summary>
    public void TickTo(long ticks)
    {
        var enough = (2L * _options.ElectionTicks) + 1;
        if (ticks - _now > enough)
        {
            _now = ticks - enough;
        }

        while (_now < ticks)
        {
            Tick();
        }
    }

    /// <summary>One unit of time: elections and heartbeats are counted in ticks.</summary>
    public void Tick()
    {
        _now++;
        _electionElapsed++;
        if (Role == RaftRole.Leader)
        {
            _heartbeatElapsed++;
            if (_electionElapsed >= _options.ElectionTicks)
            {
                _electionElapsed = 0;
                _transferee = 0; // a transfer that did not finish in an election timeout is abandoned
                if (_options.CheckQuorum && !QuorumActive())
                {
                    BecomeFollower(Term, 0); // cut off from the majority: stop acting as leader
                    return;
                }
            }

            if (_heartbeatElapsed >= _options.HeartbeatTicks)
            {
                _heartbeatElapsed = 0;
                BroadcastHeartbeat();
            }

            return;
        }

        if (_electionElapsed >= _randomizedElectionTimeout)
        {
            if (Conf.IsVoter(Id))
            {
                Campaign(preVote: _options.PreVote);
            }
            else
            {
                ResetElection(); // non-voters (and servers not yet added) never campaign
            }
        }
    }

    public bool HasReady =>
        _receivedSnapshot is not null || _outbox.Count > 0 || _readStates.Count > 0 || _log.Stable < _log.LastIndex || HardStateChanged() || _log.Applicable().Count > 0;

    public Ready GetReady()
    {
        var hardState = HardStateChanged() ? new HardState { Term = Term, Vote = Vote, Commit = _log.Committed } : null;
        var ready = new Ready(hardState, _log.Unstable(), _outbox, _log.Applicable(), Role, Leader, Term, _readStates) { Snapshot = _receivedSnapshot };
        _outbox = [];
        _readStates = [];
        return ready;
    }

    /// <summary>The driver persisted, sent and applied what <paramref name="ready"/> asked.</summary>
    public void Advance(Ready ready)
    {
        ArgumentNullException.ThrowIfNull(ready);
        if (ready.HardState is { } hardState)
        {
            _persisted = hardState;
        }

        if (ready.Snapshot is not null && ReferenceEquals(ready.Snapshot, _receivedSnapshot))
        {
            _receivedSnapshot = null;
        }

        if (ready.Entries.Count > 0)
        {
            var last = ready.Entries[^1];
            if (_log.TermAt(last.Index) == last.Term)
            {
                _log.StableTo(last.Index);
            }
        }

        if (ready.CommittedEntries.Count > 0)
        {
            _log.AppliedTo(ready.CommittedEntries[^1].Index);
        }

        if (Role == RaftRole.Leader)
        {
            MaybeCommit(); // our own entries just became durable: they count toward the quorum now
        }
    }

    private bool HardStateChanged() =>
        _persisted.Term != Term || _persisted.Vote != Vote || _persisted.Commit != _log.Committed;

    private void Send(Message message)
    {
        message.From = Id;
        if (message.Term == 0)
        {
            message.Term = Term;
        }

        _outbox.Add(message);
    }

    private void ResetElection()
    {
        _electionElapsed = 0;
        _heartbeatElapsed = 0;
        _randomizedElectionTimeout = _options.ElectionTicks + _random.Next(_options.ElectionTicks);
    }

    private void BecomeFollower(ulong term, ulong leader)
    {
        _transferee = 0;
        _pendingReads.Clear(); // unconfirmed reads die with the leadership; callers retry
        if (term != Term)
        {
            Term = term;
            Vote = 0;
        }

        Role = RaftRole.Follower;
        Leader = leader;
        ResetElection();
    }

    /// <summary>Starts an election: a pre-vote round first when enabled (a timed-out pre-vote starts another pre-vote).</summary>
    private void Campaign(bool preVote, bool transfer = false)
    {
        if (Role == RaftRole.Leader)
        {
            return;
        }

        if (preVote)
        {
            Role = RaftRole.PreCandidate;
            Leader = 0;
            ResetElection();
            StartVote(MessageType.PreVote, Term + 1);
            return;
        }

        Term++;
        Vote = Id;
        Role = RaftRole.Candidate;
        Leader = 0;
        ResetElection();
        StartVote(MessageType.Vote, Term, transfer);
    }

    private void StartVote(MessageType type, ulong term, bool transfer = false)
    {
        _votes.Clear();
        _votes[Id] = true;
        if (TallyAndMaybeWin())
        {
            return;
        }

        foreach (var voter in Conf.Voters.Where(v => v != Id))
        {
            Send(new Message { Type = type, To = voter, Term = term, Index = _log.LastIndex, LogTerm = _log.LastTerm, Transfer = transfer });
        }
    }

    /// <summary>Counts the votes; on a quorum moves on (pre-vote → vote, vote → leader). True if it did.</summary>
    private bool TallyAndMaybeWin()
    {
        var granted = _votes.Count(v => v.Value && Conf.IsVoter(v.Key));
        var rejected = _votes.Count(v => !v.Value && Conf.IsVoter(v.Key));
        if (granted >= Quorum)
        {
            if (Role == RaftRole.PreCandidate)
            {
                Campaign(preVote: false);
            }
            else
            {
                BecomeLeader();
            }

            return true;
        }

        if (rejected >= Quorum)
        {
            BecomeFollower(Term, 0);
            return true;
        }

        return false;
    }

    private void BecomeLeader()
    {
        _transferee = 0;
        Role = RaftRole.Leader;
        Leader = Id;
        ResetElection();
        _leaseRevoked = false;
        _progress.Clear();
        SyncProgress();

        // An entry of our own term: entries of earlier terms are committed only through it (§5.4.2).
        _log.AppendAsLeader(new Entry { Term = Term, Index = _log.LastIndex + 1 });
        BroadcastAppend();
    }

    /// <summary>The leader tracks every other member of the newest configuration, voters and non-voters.</summary>
    private void SyncProgress()
    {
        foreach (var member in Conf.Voters.Concat(Conf.NonVoters).Where(m => m != Id && !_progress.ContainsKey(m)))
        {
            _progress[member] = new Progress(_log.LastIndex + 1) { RecentActive = true };
        }

        foreach (var gone in _progress.Keys.Where(m => !Conf.IsMember(m)).ToList())
        {
            _progress.Remove(gone);
        }
    }

    private bool QuorumActive()
    {
        var active = (Conf.IsVoter(Id) ? 1 : 0) + _progress.Count(p => p.Value.RecentActive && Conf.IsVoter(p.Key));
        foreach (var progress in _progress.Values)
        {
            progress.RecentActive = false;
        }

        return active >= Quorum;
    }
}
