using Cluster.Raft.Core;
using Cluster.Raft.Storage;
using Cluster.Raft.Transport;
using Cluster.Raft.Wire;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Cluster.Primitives;

namespace Cluster.Raft.Server;

/// <summary>
/// The driver: runs one <see cref="RaftNode"/> on a single loop that owns it, the log and the
/// state machine. Each turn takes everything queued (peer messages, proposals, ticks, requests),
/// feeds it to the core — proposals as one batch — then works through the Ready: install a
/// received snapshot, append to the write-ahead log and fsync once (group commit), send, apply
/// committed entries, release reads. Callers get tasks: <see cref="ProposeAsync"/> completes
/// after its entry is committed and applied here, with the state machine's result.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Disposed through DisposeAsync, which stops the loop first.")]
public sealed class RaftServer : IRaftInbox, IAsyncDisposable
{
    private readonly RaftServerOptions _options;
    private readonly IStateMachine _stateMachine;
    private readonly ILogger _logger;
    private readonly WorkQueue _work = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly SnapshotStore _snapshots;
    private readonly Dictionary<ulong, Pending> _proposals = [];
    private readonly Dictionary<ByteString, TaskCompletionSource<ulong>> _reads = [];
    private readonly List<(ulong Index, TaskCompletionSource<ulong> Done)> _readsAwaitingApply = [];
    private readonly HashSet<ulong> _members = [];
    private WriteAheadLog? _wal;
    private RaftNode? _node;
    private ITimer? _ticker;
    private Task _loop = Task.CompletedTask;
    private long _readSequence;
    private int _disposed;
    private ulong _persistedTerm;
    private ulong _persistedVote;
    private long _proposalCount;
    private DateTimeOffset? _lastContact;
    private volatile RaftStats? _stats;
    private readonly ChangeSignal _changed = new();

    // The core's clock: tick n is due at _epoch + n × _tickLength on the monotonic clock, and the
    // loop catches the core up before every input (RaftNode.TickTo), so a pause cannot leave its
    // lease or election timers behind real time.
    private long _epoch;
    private long _tickLength;

    // Lease reads without a loop turn (TryLeaseRead): what the loop last published before sending anything.
    private long _leaseUntil;
    private ulong _publishedCommitted;
    private ulong _publishedApplied;

    public RaftServer(RaftServerOptions options, IStateMachine stateMachine, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _options = options;
        _stateMachine = stateMachine ?? throw new ArgumentNullException(nameof(stateMachine));
        _logger = loggerFactory.CreateLogger("Cluster.Raft");
        _snapshots = new SnapshotStore(Path.Combine(options.DataDirectory, "snap"), options.Fsync);
        Transport = new RaftTransport(options.Id, options.Address, this, _snapshots, Path.Combine(options.DataDirectory, "snap", "incoming"), options.Transport, options.Time, _logger);
    }

    public ulong Id => _options.Id;

    /// <summary>Register it on the gRPC server that listens at <see cref="RaftServerOptions.Address"/>.</summary>
    public RaftTransport Transport { get; }

    /// <summary>
    /// Completes when the loop finishes its next turn (state may have changed). Take it, look at
    /// the state, then await it: a waiter never misses a change and never polls.
    /// </summary>
    public Task Changed => _changed.Next;

    /// <summary>The latest view, refreshed every loop turn (null before start).</summary>
    public RaftStats? Stats => _stats;

    /// <summary>
    /// Recovers from the data directory (newest intact snapshot, then the log after it; a new
    /// cluster's founding servers write the bootstrap configuration first) and starts the loop.
    /// </summary>
    public void Start()
    {
        _wal = WriteAheadLog.Open(Path.Combine(_options.DataDirectory, "wal"), new WalOptions { Fsync = _options.Fsync });
        var recovered = _wal.Recovered;
        var meta = new SnapshotMeta { Conf = new ConfState() };
        if (_snapshots.LoadNewest() is { } newest)
        {
            var (snapshotMeta, state) = SnapshotFile.Read(newest.Data);
            _stateMachine.Restore(state.Span);
            meta = snapshotMeta;
        }

        if (recovered.Snapshot.Index > meta.Index)
        {
            throw new CorruptLogException($"the log was compacted through {recovered.Snapshot.Index} but the newest intact snapshot ends at {meta.Index}; entries in between are lost");
        }

        var entries = recovered.Entries.Where(e => e.Index > meta.Index).ToList();
        if (entries.Count > 0 && entries[0].Index != meta.Index + 1)
        {
            throw new CorruptLogException($"the log resumes at {entries[0].Index} after a snapshot ending at {meta.Index}");
        }

        var hardState = recovered.HardState;
        if (meta.Index == 0 && entries.Count == 0 && hardState.Term == 0 && _options.Bootstrap.Count > 0)
        {
            var conf = Membership.Voters(_options.Bootstrap.Keys);
            foreach (var (id, address) in _options.Bootstrap)
            {
                conf.Addresses[id] = address;
            }

            (hardState, var founding) = Membership.Bootstrap(conf);
            _wal.Append(founding, hardState);
            _wal.Sync();
            entries = [.. founding];
        }

        _wal.MarkSnapshot(meta.Index, meta.Term); // a snapshot saved just before a crash, not yet marked
        (_persistedTerm, _persistedVote) = (hardState.Term, hardState.Vote);
        _node = new RaftNode(
            new RaftOptions { Id = _options.Id, ElectionTicks = _options.ElectionTicks },
            meta,
            _options.Seed is { } seed ? new Random(seed) : new Random(),
            hardState,
            entries);
        SyncPeers();
        PublishStats();
        _tickLength = Math.Max(1, (long)(_options.TickInterval.TotalSeconds * _options.Time.TimestampFrequency));
        _epoch = _options.Time.GetTimestamp();
        // A thread of its own: the loop blocks in fsync, which must not starve the thread pool
        // that the transport and the callers run on.
        var loop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _loop = loop.Task;
        new Thread(() => Run(loop)) { IsBackground = true, Name = $"raft-{_options.Id}" }.Start();
        // The timer only wakes the loop; how many ticks are due comes from the clock.
        _ticker = _options.Time.CreateTimer(static s => ((RaftServer)s!)._work.TryWrite(Tick.Instance), this, _options.TickInterval, _options.TickInterval);
    }

    /// <summary>Replicates <paramref name="command"/>; completes once it is committed and applied here, with its index and result.</summary>
    public Task<(ulong Index, object? Result)> ProposeAsync(ByteString command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        var pending = new Pending(command, cancellationToken);
        Enqueue(pending);
        // A cancelled caller stops waiting; the command may still commit (as with any timeout).
        return cancellationToken.CanBeCanceled ? pending.Done.Task.WaitAsync(cancellationToken) : pending.Done.Task;
    }

    /// <summary>
    /// A linearizable read point: completes when this server has applied everything committed
    /// before the call, as confirmed by the leader (quorum round, or lease). Read the state
    /// machine after it completes.
    /// </summary>
    public Task<ulong> ReadBarrierAsync(ReadMode mode = ReadMode.Quorum, CancellationToken cancellationToken = default)
    {
        var read = new ReadRequest(mode, new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously));
        cancellationToken.Register(() => read.Done.TrySetCanceled(cancellationToken));
        Enqueue(read);
        return read.Done.Task;
    }

    /// <summary>
    /// Adds a server: first as a non-voter; for a voter, promoted once it has caught up, so
    /// the cluster's quorum never waits for a server still copying the log.
    /// </summary>
    public async Task AddServerAsync(ulong id, string address, bool voter, CancellationToken cancellationToken = default)
    {
        var conf = (await StatsNowAsync(cancellationToken)).Configuration;
        if (!conf.IsMember(id))
        {
            await ChangeAsync(new ConfChange { Type = ConfChangeType.AddNonVoter, Node = id, Address = address }, cancellationToken);
        }

        if (!voter || conf.IsVoter(id))
        {
            return;
        }

        while (true)
        {
            var stats = await StatsNowAsync(cancellationToken);
            if (stats.Role != RaftRole.Leader)
            {
                throw new NotLeaderException(stats.Leader, stats.LeaderAddress);
            }

            if (stats.Matches.TryGetValue(id, out var match) && match + _options.PromotionLag >= stats.Committed)
            {
                break;
            }

            await Task.Delay(_options.TickInterval, _options.Time, cancellationToken);
        }

        await ChangeAsync(new ConfChange { Type = ConfChangeType.AddVoter, Node = id, Address = address }, cancellationToken);
    }

    public Task RemoveServerAsync(ulong id, CancellationToken cancellationToken = default) =>
        ChangeAsync(new ConfChange { Type = ConfChangeType.RemoveServer, Node = id }, cancellationToken);

    /// <summary>Hands leadership to <paramref name="target"/>; completes when it leads (or throws if this server does not lead).</summary>
    public async Task TransferLeadershipAsync(ulong target, CancellationToken cancellationToken = default)
    {
        var started = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new Transfer(target, started));
        if (!await started.Task)
        {
            var stats = await StatsNowAsync(cancellationToken);
            throw new InvalidOperationException(stats.Role == RaftRole.Leader ? $"server {target} is not another voter" : $"not the leader (the leader is {stats.Leader})");
        }

        while ((await StatsNowAsync(cancellationToken)).Leader != target)
        {
            await Task.Delay(_options.TickInterval, _options.Time, cancellationToken);
        }
    }

    /// <summary>Stats read on the loop (not the cached view).</summary>
    public async Task<RaftStats> StatsNowAsync(CancellationToken cancellationToken = default)
    {
        var done = new TaskCompletionSource<RaftStats>(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(done);
        return await done.Task.WaitAsync(cancellationToken);
    }

    void IRaftInbox.Deliver(Message message) => _work.TryWrite(message);

    void IRaftInbox.SnapshotReported(ulong peer, bool delivered) => _work.TryWrite(new SnapshotReport(peer, delivered));

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (_ticker is not null)
        {
            await _ticker.DisposeAsync();
        }

        _work.Complete();
        await _stopping.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        await Transport.DisposeAsync();
        _wal?.Dispose();
        _stopping.Dispose();
        _work.Dispose();
        FailAll(new ObjectDisposedException(nameof(RaftServer)));
    }

    private void Enqueue(object work)
    {
        ObjectDisposedException.ThrowIf(!_work.TryWrite(work), this);
    }

    private async Task ChangeAsync(ConfChange change, CancellationToken cancellationToken)
    {
        while (true)
        {
            var request = new ChangeRequest(change, new TaskCompletionSource<(ConfChangeResult, Task<(ulong, object?)>?)>(TaskCreationOptions.RunContinuationsAsynchronously));
            Enqueue(request);
            var (result, applied) = await request.Done.Task.WaitAsync(cancellationToken);
            switch (result)
            {
                case ConfChangeResult.Accepted:
                    await applied!.WaitAsync(cancellationToken);
                    return;
                case ConfChangeResult.Pending:
                    await Task.Delay(_options.TickInterval, _options.Time, cancellationToken);
                    continue;
                case ConfChangeResult.Invalid:
                    throw new ArgumentException(Membership.Validate((await StatsNowAsync(cancellationToken)).Configuration, change) ?? "the change does not apply", nameof(change));
                default:
                    var stats = await StatsNowAsync(cancellationToken);
                    throw new NotLeaderException(stats.Leader, stats.LeaderAddress);
            }
        }
    }

    private void Run(TaskCompletionSource finished)
    {
        var reader = _work;
        var batch = new List<Pending>();
        try
        {
            while (reader.WaitToRead() && !_stopping.IsCancellationRequested)
            {
                var taken = 0;
                while (taken++ < 4 * _options.MaxBatch && reader.TryRead(out var work))
                {
                    Handle(work, batch);
                    if (batch.Count >= _options.MaxBatch)
                    {
                        ProposeBatch(batch);
                    }
                }

                ProposeBatch(batch);
                ProcessReady();
                PublishStats();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            // The log or the state machine failed: stop serving rather than diverge.
            _logger.ServerFailed(exception, _options.Id);
            FailAll(exception);
            finished.SetException(exception);
            return;
        }

        finished.SetResult();
    }

    private void Handle(object work, List<Pending> batch)
    {
        var node = _node!;
        // The clock is read after the input was taken, so after it was sent: whatever the core
        // decides about it (a lease read, a vote) it decides with its timers at real time.
        node.TickTo((_options.Time.GetTimestamp() - _epoch) / _tickLength);
        switch (work)
        {
            case Message message:
                if (message.From == node.Leader || message.Type is MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot)
                {
                    _lastContact = _options.Time.GetUtcNow();
                }

                node.Step(message);
                break;
            case Tick:
                break; // caught up above
            case Pending pending:
                if (!pending.Cancellation.IsCancellationRequested)
                {
                    batch.Add(pending);
                }

                break;
            case ReadRequest read:
                var context = ByteString.CopyFrom(BitConverter.GetBytes(++_readSequence));
                _reads[context] = read.Done;
                node.ReadIndex(context, read.Mode);
                break;
            case ChangeRequest change:
                var result = node.ProposeConfChange(change.Change);
                Task<(ulong, object?)>? applied = null;
                if (result == ConfChangeResult.Accepted)
                {
                    var pending = new Pending(change.Change.ToByteString(), CancellationToken.None);
                    _proposals[node.LastIndex] = pending with { Term = node.Term };
                    applied = pending.Done.Task;
                }

                change.Done.SetResult((result, applied));
                break;
            case Transfer transfer:
                transfer.Started.SetResult(node.TransferLeadership(transfer.Target));
                break;
            case SnapshotReport report:
                node.ReportSnapshot(report.Peer, report.Delivered);
                break;
            case TaskCompletionSource<RaftStats> stats:
                stats.SetResult(BuildStats());
                break;
        }
    }

    private void ProposeBatch(List<Pending> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }

        var node = _node!;
        if (node.Propose(batch.Select(p => p.Command).ToList()))
        {
            var first = node.LastIndex - (ulong)batch.Count + 1;
            for (var i = 0; i < batch.Count; i++)
            {
                _proposals[first + (ulong)i] = batch[i] with { Term = node.Term };
            }

            _proposalCount += batch.Count;
        }
        else
        {
            var error = new NotLeaderException(node.Leader, AddressOf(node.Leader));
            foreach (var pending in batch)
            {
                pending.Done.TrySetException(error);
            }
        }

        batch.Clear();
    }

    private void ProcessReady()
    {
        var node = _node!;
        var wal = _wal!;
        var wasLeader = node.Role == RaftRole.Leader;
        PublishLease();
        while (node.HasReady)
        {
            var ready = node.GetReady();
            PublishLease(); // before anything is sent: a revoked lease or a new commit index is visible first
            if (ready.Snapshot is { } received)
            {
                var contents = _snapshots.Load(received.Index, received.Term)
                    ?? throw new InvalidOperationException($"snapshot {received.Index} was handed to Raft but is not on disk");
                _stateMachine.Restore(SnapshotFile.Read(contents).State.Span);
                wal.MarkSnapshot(received.Index, received.Term);
                FailProposalsThrough(received.Index);
                Volatile.Write(ref _publishedApplied, received.Index);
            }

            // A leader may send its appends before its own write (thesis §10.2.1): its entries count
            // toward commit only once Advance marks them durable, so its disk and the followers'
            // work in parallel. Anything promising a new term or vote still waits for the disk.
            var sendFirst = ready.Role == RaftRole.Leader && (ready.HardState is null || (ready.HardState.Term == _persistedTerm && ready.HardState.Vote == _persistedVote));
            if (sendFirst)
            {
                SendAll(ready.Messages);
            }

            if (ready.Entries.Count > 0 || ready.HardState is not null)
            {
                wal.Append(ready.Entries, ready.HardState);
                if (ready.Entries.Count > 0 || ready.HardState!.Term != _persistedTerm || ready.HardState.Vote != _persistedVote)
                {
                    wal.Sync(); // one fsync for the whole batch; a commit-index change alone can wait for the next
                }

                if (ready.HardState is { } persisted)
                {
                    (_persistedTerm, _persistedVote) = (persisted.Term, persisted.Vote);
                }
            }

            if (!sendFirst)
            {
                SendAll(ready.Messages);
            }

            Apply(ready.CommittedEntries);
            if (ready.CommittedEntries.Count > 0)
            {
                Volatile.Write(ref _publishedApplied, ready.CommittedEntries[^1].Index);
            }

            foreach (var read in ready.ReadStates)
            {
                if (_reads.Remove(read.Context, out var done))
                {
                    _readsAwaitingApply.Add((read.Index, done));
                }
            }

            node.Advance(ready);
            ReleaseReads();
            if (ready.CommittedEntries.Any(e => e.Type is EntryType.ConfChange or EntryType.ConfState) || ready.Snapshot is not null)
            {
                SyncPeers();
            }
        }

        if (wasLeader && node.Role != RaftRole.Leader)
        {
            FailReads(new NotLeaderException(node.Leader, AddressOf(node.Leader)));
        }

        PublishLease();

        if (node.Applied - node.Snapshot.Index >= _options.SnapshotThreshold)
        {
            TakeSnapshot();
        }
    }

    private void SendAll(IReadOnlyList<Message> messages)
    {
        foreach (var message in messages)
        {
            Transport.Send(message);
        }
    }

    private void Apply(IReadOnlyList<Entry> committed)
    {
        foreach (var entry in committed)
        {
            object? result = null;
            if (entry.Type == EntryType.Normal && !entry.Data.IsEmpty)
            {
                result = _stateMachine.Apply(entry.Index, entry.Data);
            }

            if (_proposals.Remove(entry.Index, out var pending))
            {
                if (pending.Term == entry.Term)
                {
                    pending.Done.TrySetResult((entry.Index, result));
                }
                else
                {
                    pending.Done.TrySetException(new NotLeaderException(_node!.Leader, AddressOf(_node.Leader)));
                }
            }
        }
    }

    private void ReleaseReads()
    {
        var applied = _node!.Applied;
        _readsAwaitingApply.RemoveAll(r =>
        {
            if (r.Index > applied)
            {
                return false;
            }

            r.Done.TrySetResult(r.Index);
            return true;
        });
    }

    private void TakeSnapshot()
    {
        var node = _node!;
        var meta = node.Compact(node.Applied);
        using var buffer = new MemoryStream();
        SnapshotFile.Write(buffer, meta, _stateMachine.WriteSnapshot);
        var contents = buffer.ToArray();
        _snapshots.SaveAsync(meta.Index, meta.Term, s => s.WriteAsync(contents).AsTask()).GetAwaiter().GetResult();
        _wal!.MarkSnapshot(meta.Index, meta.Term);
    }

    /// <summary>Dial every member of the newest configuration; forget servers that left it.</summary>
    private void SyncPeers()
    {
        var conf = _node!.Configuration;
        Transport.SetPeers(conf.Addresses);
        foreach (var gone in _members.Where(m => !conf.IsMember(m)).ToList())
        {
            Transport.Forget(gone);
            _members.Remove(gone);
        }

        _members.UnionWith(conf.Voters.Concat(conf.NonVoters));
    }

    private string AddressOf(ulong id) => id != 0 && _node!.Configuration.Addresses.TryGetValue(id, out var address) ? address : "";

    private RaftStats BuildStats()
    {
        var node = _node!;
        return new RaftStats(
            node.Id, node.Role, node.Term, node.Leader, AddressOf(node.Leader), node.LastIndex, node.Committed, node.Applied,
            node.Snapshot.Index, node.Configuration, node.Matches(), _wal!.Syncs, _proposalCount, Transport.DroppedOutbound,
            node.Role == RaftRole.Leader ? _options.Time.GetUtcNow() : _lastContact);
    }

    /// <summary>
    /// A linearizable read point without a loop turn, for a leader inside its lease: true when
    /// this server leads with a valid lease and has applied everything it has committed (so no
    /// other server can have applied anything it has not). Read the state machine after it
    /// returns true; otherwise use <see cref="ReadBarrierAsync"/>.
    /// </summary>
    public bool TryLeaseRead()
    {
        var committed = Volatile.Read(ref _publishedCommitted);
        var applied = Volatile.Read(ref _publishedApplied);
        return applied >= committed && _options.Time.GetTimestamp() < Volatile.Read(ref _leaseUntil);
    }

    /// <summary>
    /// The lease in real time: the granting heartbeat carried tick <c>start</c>, which was not
    /// due before <c>_epoch + start × tick</c>, so it was sent no earlier; followers hold their
    /// votes for an election timeout after hearing it, longer than the lease's ticks.
    /// </summary>
    private void PublishLease()
    {
        var node = _node!;
        Volatile.Write(ref _publishedCommitted, Math.Max(Volatile.Read(ref _publishedCommitted), node.Committed));
        Volatile.Write(ref _leaseUntil, node.LeaseStart is { } start ? _epoch + ((start + node.LeaseLength) * _tickLength) : 0);
    }

    private void PublishStats()
    {
        _stats = BuildStats();
        _changed.Fire();
    }

    private void FailProposalsThrough(ulong index)
    {
        foreach (var key in _proposals.Keys.Where(k => k <= index).ToList())
        {
            // Replaced by a snapshot: whether it committed cannot be told here.
            _proposals.Remove(key, out var pending);
            pending!.Done.TrySetException(new OutcomeUnknownException($"entry {key} was replaced by a snapshot from the leader before it was known to commit"));
        }
    }

    private void FailReads(Exception error)
    {
        foreach (var done in _reads.Values)
        {
            done.TrySetException(error);
        }

        _reads.Clear();
    }

    private void FailAll(Exception error)
    {
        FailReads(error);
        foreach (var pending in _proposals.Values)
        {
            pending.Done.TrySetException(error);
        }

        _proposals.Clear();
        foreach (var (_, done) in _readsAwaitingApply)
        {
            done.TrySetException(error);
        }

        _readsAwaitingApply.Clear();
        while (_work.TryRead(out var work))
        {
            (work as Pending)?.Done.TrySetException(error);
        }
    }

    private sealed record Pending(ByteString Command, CancellationToken Cancellation)
    {
        public ulong Term { get; init; }

        public TaskCompletionSource<(ulong Index, object? Result)> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed record ReadRequest(ReadMode Mode, TaskCompletionSource<ulong> Done);

    private sealed record ChangeRequest(ConfChange Change, TaskCompletionSource<(ConfChangeResult, Task<(ulong, object?)>?)> Done);

    private sealed record Transfer(ulong Target, TaskCompletionSource<bool> Started);

    private sealed record SnapshotReport(ulong Peer, bool Delivered);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
