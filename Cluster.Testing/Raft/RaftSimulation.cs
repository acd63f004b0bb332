using Cluster.Raft.Core;
using Cluster.Raft.Wire;
using Google.Protobuf;

namespace Cluster.Testing.Raft;

/// <summary>
/// Raft nodes on a simulated network, in one thread, driven by a seeded random source: ticks,
/// message delivery (with loss, duplication, delay, reordering and cut links), a simulated disk
/// per node (with snapshots), crash and restart, pauses (a node whose ticks and inbox stop while
/// the others run, then resume with a backlog), and spare servers that can be added later.
/// The same seed replays the same run exactly.
/// </summary>
public sealed class RaftSimulation
{
    private readonly Random _random;
    private readonly RaftOptions _template;
    private readonly List<Message> _inFlight = [];
    private readonly List<Message> _delayed = [];
    private readonly HashSet<(ulong From, ulong To)> _cut = [];

    // Pauses: what reached a paused node (messages, and reads its clients asked), in arrival order.
    private readonly Dictionary<ulong, List<object>> _backlogs = [];

    // The simulated clock in ticks, and when each node (re)started: a node's own clock counts from its start.
    private long _time;
    private readonly Dictionary<ulong, long> _startedAt = [];

    // The state a snapshot message stands for, captured when the leader sent it (the transport streams the file).
    private readonly Dictionary<Message, List<Entry>> _snapshotData = new(ReferenceEqualityComparer.Instance);

    /// <summary>Voters of the first configuration get ids 1..<paramref name="nodes"/>; <paramref name="spares"/> more servers start outside it, waiting to be added.</summary>
    public RaftSimulation(int nodes, int seed, RaftOptions? template = null, int spares = 0)
    {
        _random = new Random(seed);
        _template = template ?? new RaftOptions { Id = 1 };
        Ids = [.. Enumerable.Range(1, nodes + spares).Select(i => (ulong)i)];
        var (hardState, entries) = Membership.Bootstrap(Membership.Voters(Ids.Take(nodes)));
        foreach (var id in Ids)
        {
            Disks[id] = id <= (ulong)nodes ? new SimDisk(new SnapshotMeta(), hardState, entries) : new SimDisk(new SnapshotMeta());
            Start(id);
        }
    }

    public ulong[] Ids { get; }

    public Dictionary<ulong, RaftNode> Nodes { get; } = [];

    public Dictionary<ulong, SimDisk> Disks { get; } = [];

    /// <summary>Read indexes released, by node, in order.</summary>
    public List<(ulong Node, ReadState Read)> Reads { get; } = [];

    public HashSet<ulong> Down { get; } = [];

    /// <summary>Nodes that are paused: no ticks, nothing delivered or processed until resumed.</summary>
    public HashSet<ulong> Paused { get; } = [];

    /// <summary>
    /// On resume, a node's driver reads the clock and takes the ticks it missed before each input
    /// (<see cref="RaftNode.TickTo"/>), as <c>RaftServer</c> does. False models a driver that only
    /// ticks on its timer: one tick at some point among the backlog — which let a resumed leader
    /// answer lease reads from a lease that had expired in real time.
    /// </summary>
    public bool CatchUpOnResume { get; set; } = true;

    public int Pauses { get; private set; }

    /// <summary>Every (term, leader) ever observed, to check Election Safety.</summary>
    public HashSet<(ulong Term, ulong Leader)> LeadersSeen { get; } = [];

    public double DropRate { get; set; }

    /// <summary>Chance that a node loses power in the middle of persisting a Ready (un-fsynced records are lost).</summary>
    public double CrashMidWriteRate { get; set; }

    public int MidWriteCrashes { get; private set; }

    /// <summary>Chance that a message is delivered twice.</summary>
    public double DuplicateRate { get; set; }

    /// <summary>Chance that a message is held back until a later tick (which also reorders it).</summary>
    public double DelayRate { get; set; }

    /// <summary>Deliver each round's messages in a shuffled order.</summary>
    public bool Reorder { get; set; }

    public int SnapshotsSent { get; private set; }

    /// <summary>When set, only messages it accepts are delivered (scripted scenarios).</summary>
    public Func<Message, bool>? Deliver { get; set; }

    public RaftNode? Leader => Nodes.Values.Where(n => !Down.Contains(n.Id) && !Paused.Contains(n.Id) && n.Role == RaftRole.Leader).MaxBy(n => n.Term);

    /// <summary>Saves a snapshot of <paramref name="id"/>'s state machine at what it applied and compacts its log there.</summary>
    public bool Compact(ulong id)
    {
        var node = Nodes[id];
        if (Down.Contains(id) || Paused.Contains(id) || node.Applied <= node.Snapshot.Index)
        {
            return false;
        }

        Disks[id].SaveSnapshot(node.Compact(node.Applied));
        return true;
    }

    public void Cut(ulong a, ulong b)
    {
        _cut.Add((a, b));
        _cut.Add((b, a));
    }

    /// <summary>An asymmetric partition: messages from <paramref name="from"/> to <paramref name="to"/> are lost, the other way still arrives.</summary>
    public void CutOneWay(ulong from, ulong to) => _cut.Add((from, to));

    /// <summary>Cuts <paramref name="id"/> off from everyone.</summary>
    public void Isolate(ulong id)
    {
        foreach (var other in Ids.Where(o => o != id))
        {
            Cut(id, other);
        }
    }

    public void Heal() => _cut.Clear();

    /// <summary>Puts a message on the wire as if a peer had sent it (fuzzing).</summary>
    public void Inject(Message message) => _inFlight.Add(message);

    public void Crash(ulong id)
    {
        Down.Add(id);
        Paused.Remove(id);
        var backlog = _backlogs.Remove(id, out var waiting) ? waiting.OfType<Message>() : [];
        foreach (var lost in _inFlight.Concat(_delayed).Concat(backlog).Where(m => m.To == id).ToList())
        {
            Lost(lost); // a transfer to a server that died fails, and its sender hears so
        }

        _inFlight.RemoveAll(m => m.To == id || m.From == id);
        _delayed.RemoveAll(m => m.To == id || m.From == id);
    }

    /// <summary>Restarts from what the node's disk holds.</summary>
    public void Restart(ulong id)
    {
        Down.Remove(id);
        Start(id);
    }

    public bool Propose(ulong id, string command) => Nodes[id].Propose(ByteString.CopyFromUtf8(command));

    /// <summary>A client asks <paramref name="id"/> for a read; a paused node finds it in its backlog when it resumes.</summary>
    public void Read(ulong id, string context, ReadMode mode)
    {
        var read = new PendingRead(ByteString.CopyFromUtf8(context), mode);
        if (Paused.Contains(id))
        {
            _backlogs[id].Add(read);
            return;
        }

        Nodes[id].ReadIndex(read.Context, read.Mode);
    }

    /// <summary>Freezes a live node (SIGSTOP, a long GC, a VM stall): its clock stops, what is sent to it waits.</summary>
    public void Pause(ulong id)
    {
        if (!Down.Contains(id) && Paused.Add(id))
        {
            _backlogs[id] = [];
            Pauses++;
        }
    }

    /// <summary>
    /// Thaws a paused node: its driver works through the backlog in an arbitrary (seeded) order —
    /// threads race after SIGCONT — reading the clock before each input (see <see cref="CatchUpOnResume"/>).
    /// </summary>
    public void Resume(ulong id)
    {
        if (!Paused.Remove(id))
        {
            return;
        }

        var backlog = _backlogs[id];
        _backlogs.Remove(id);
        _random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(backlog));
        var node = Nodes[id];
        var timerAt = _random.Next(backlog.Count + 1);
        for (var i = 0; i <= backlog.Count; i++)
        {
            if (CatchUpOnResume)
            {
                node.TickTo(_time - _startedAt[id]);
            }
            else if (i == timerAt)
            {
                node.Tick();
            }

            if (i == backlog.Count)
            {
                break;
            }

            switch (backlog[i])
            {
                case Message message:
                    Deliver1(message);
                    break;
                case PendingRead read:
                    node.ReadIndex(read.Context, read.Mode);
                    break;
                case SnapshotOutcome outcome:
                    node.ReportSnapshot(outcome.Peer, outcome.Delivered);
                    break;
            }
        }

        if (!CatchUpOnResume)
        {
            // Its timer keeps one tick per tick from now on: the clock it shows stays behind.
            _startedAt[id] = _time - node.Ticks;
        }

        Pump();
    }

    /// <summary>Ticks every live node, then delivers until quiet.</summary>
    public void Tick(int ticks = 1)
    {
        for (var i = 0; i < ticks; i++)
        {
            // Held-back messages come out at a later tick, each with even odds per tick.
            foreach (var late in _delayed.Where(_ => _random.Next(2) == 0).ToList())
            {
                _delayed.Remove(late);
                _inFlight.Add(late);
            }

            _time++;
            foreach (var id in Ids.Where(id => !Down.Contains(id) && !Paused.Contains(id)))
            {
                Nodes[id].Tick();
            }

            Pump();
            CheckLeases();
        }
    }

    /// <summary>
    /// A read lease is sound only if no leader of a later term exists while it holds: a running
    /// node (its clock at the simulated time) that holds a lease while another leads a later term
    /// could answer reads that miss that leader's commits. Paused nodes are left out: their clocks
    /// stopped with them, and what they do when they resume is what the read checks judge.
    /// </summary>
    private void CheckLeases()
    {
        foreach (var holder in Nodes.Values.Where(n => !Down.Contains(n.Id) && !Paused.Contains(n.Id) && n.HasLease))
        {
            if (Nodes.Values.FirstOrDefault(n => !Down.Contains(n.Id) && n.Role == RaftRole.Leader && n.Term > holder.Term) is { } later)
            {
                throw new RaftViolationException($"lease: node {holder.Id} holds a read lease in term {holder.Term} while node {later.Id} leads term {later.Term}");
            }
        }
    }

    /// <summary>Runs ticks until a leader exists that every live, connected node follows (bounded).</summary>
    public RaftNode ElectLeader(int maxTicks = 500)
    {
        for (var i = 0; i < maxTicks; i++)
        {
            Tick();
            if (Leader is { } leader && Nodes.Values.Where(n => !Down.Contains(n.Id) && !Paused.Contains(n.Id) && !_cut.Contains((leader.Id, n.Id)) && leader.Configuration.IsMember(n.Id) && n.Id != leader.Id).All(n => n.Leader == leader.Id))
            {
                return leader;
            }
        }

        throw new InvalidOperationException($"no leader within {maxTicks} ticks");
    }

    /// <summary>Ticks until <paramref name="id"/> leads, dropping every other node's vote requests so nobody else can win (bounded).</summary>
    public RaftNode ElectSpecific(ulong id, int maxTicks = 1000)
    {
        var outer = Deliver;
        Deliver = m => (m.Type is not (MessageType.PreVote or MessageType.Vote) || m.From == id) && (outer?.Invoke(m) ?? true);
        try
        {
            for (var i = 0; i < maxTicks; i++)
            {
                Tick();
                if (Nodes[id].Role == RaftRole.Leader)
                {
                    return Nodes[id];
                }
            }
        }
        finally
        {
            Deliver = outer;
        }

        throw new InvalidOperationException($"node {id} did not win within {maxTicks} ticks");
    }

    /// <summary>Processes Ready and delivers messages until nothing moves (bounded), in a seeded order.</summary>
    public void Pump(int maxRounds = 10_000)
    {
        for (var round = 0; round < maxRounds; round++)
        {
            var moved = false;
            foreach (var id in Ids.Where(id => !Down.Contains(id) && !Paused.Contains(id)).ToList())
            {
                var node = Nodes[id];
                for (var turns = 0; !Down.Contains(id) && node.HasReady; turns++)
                {
                    moved = true;
                    var ready = node.GetReady();
                    if (turns == 1_000)
                    {
                        throw new InvalidOperationException($"node {id} never stops having work: {ready.Entries.Count} entries, {ready.Messages.Count} messages, {ready.CommittedEntries.Count} to apply, hard state {ready.HardState}, snapshot {ready.Snapshot}, last {node.LastIndex}, committed {node.Committed}, applied {node.Applied}, snap {node.Snapshot.Index}");
                    }

                    if (CrashMidWriteRate > 0 && Down.Count < (Ids.Length - 1) / 2 && _random.NextDouble() < CrashMidWriteRate)
                    {
                        // Power lost during the write: a prefix of its records reached the disk,
                        // nothing was sent, nothing applied.
                        Disks[id].PersistPrefix(ready, _random.Next(ready.Entries.Count + 2));
                        Crash(id);
                        MidWriteCrashes++;
                        break;
                    }

                    Disks[id].Persist(ready);
                    foreach (var message in ready.Messages)
                    {
                        if (message.Type == MessageType.Snapshot)
                        {
                            // The state machine at the message's index: the node may have compacted further
                            // since the core made the message (the driver reads the file named by index and term).
                            _snapshotData[message] = [.. Disks[id].Log.Take((int)message.Snapshot.Index)];
                            SnapshotsSent++;
                        }

                        _inFlight.Add(message);
                    }

                    Reads.AddRange(ready.ReadStates.Select(r => (id, r)));
                    Disks[id].Apply(ready);
                    node.Advance(ready);
                    if (ready.Role == RaftRole.Leader && LeadersSeen.Add((ready.Term, id)) && LeadersSeen.Any(l => l.Term == ready.Term && l.Leader != id))
                    {
                        throw new RaftViolationException($"election safety: two leaders in term {ready.Term}");
                    }
                }
            }

            if (_inFlight.Count == 0)
            {
                if (!moved)
                {
                    return;
                }

                continue;
            }

            var batch = _inFlight.ToList();
            _inFlight.Clear();
            if (Reorder)
            {
                _random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(batch));
            }

            foreach (var message in batch)
            {
                if (!Nodes.ContainsKey(message.To) || Down.Contains(message.To) || _cut.Contains((message.From, message.To)) ||
                    (DropRate > 0 && _random.NextDouble() < DropRate) || (Deliver is { } deliver && !deliver(message)))
                {
                    Lost(message);
                    continue;
                }

                if (DelayRate > 0 && _random.NextDouble() < DelayRate)
                {
                    _delayed.Add(message);
                    continue;
                }

                if (Paused.Contains(message.To))
                {
                    _backlogs[message.To].Add(message); // in the socket's buffer until the process runs again
                    continue;
                }

                Deliver1(message);
                if (DuplicateRate > 0 && _random.NextDouble() < DuplicateRate)
                {
                    Deliver1(message);
                }
            }
        }

        throw new InvalidOperationException("the simulated cluster did not settle");
    }

    private void Deliver1(Message message)
    {
        if (message.Type == MessageType.Snapshot)
        {
            if (!_snapshotData.TryGetValue(message, out var data))
            {
                return;
            }

            // The transport wrote the file (named by index and term) before handing the core the message.
            Disks[message.To].Incoming[(message.Snapshot.Index, message.Snapshot.Term)] = data;
        }

        Nodes[message.To].Step(message.Clone());
        if (message.Type == MessageType.Snapshot)
        {
            ReportSnapshot(message.From, message.To, delivered: true);
        }
    }

    /// <summary>The transport tells the sender how a snapshot transfer ended (a paused sender hears when it resumes).</summary>
    private void ReportSnapshot(ulong sender, ulong peer, bool delivered)
    {
        if (Paused.Contains(sender))
        {
            _backlogs[sender].Add(new SnapshotOutcome(peer, delivered));
        }
        else if (!Down.Contains(sender))
        {
            Nodes[sender].ReportSnapshot(peer, delivered);
        }
    }

    /// <summary>A snapshot that never arrives is reported back to its sender, as the transport would.</summary>
    private void Lost(Message message)
    {
        if (message.Type == MessageType.Snapshot)
        {
            ReportSnapshot(message.From, message.To, delivered: false);
        }
    }

    private void Start(ulong id)
    {
        var disk = Disks[id];
        Nodes[id] = new RaftNode(_template with { Id = id }, disk.Snapshot.Clone(), new Random(_random.Next()), disk.HardState.Clone(), [.. disk.Entries]);
        _startedAt[id] = _time;
        disk.Applied.Clear();
        disk.Applied.AddRange(disk.SnapshotState);
    }
}

/// <summary>A read a client asked of a paused node, waiting in its backlog.</summary>
internal sealed record PendingRead(ByteString Context, ReadMode Mode);

/// <summary>How a snapshot transfer ended, waiting in a paused sender's backlog.</summary>
internal sealed record SnapshotOutcome(ulong Peer, bool Delivered);

/// <summary>
/// What a node's disk holds: the newest snapshot (its metadata and the state machine then — here
/// simply the entries it had applied), the hard state and the entries after the snapshot (later
/// writes at an index replace the rest); and what the node applied since it started.
/// </summary>
public sealed class SimDisk(SnapshotMeta snapshot)
{
    public SimDisk(SnapshotMeta snapshot, HardState hardState, IEnumerable<Entry> entries)
        : this(snapshot)
    {
        HardState = hardState.Clone();
        Entries.AddRange(entries.Select(e => e.Clone()));
    }

    public SnapshotMeta Snapshot { get; private set; } = snapshot;

    public List<Entry> SnapshotState { get; private set; } = [];

    public HardState HardState { get; private set; } = new();

    public List<Entry> Entries { get; } = [];

    public List<Entry> Applied { get; } = [];

    /// <summary>The client commands applied, in order (membership and leader no-op entries left out).</summary>
    public List<string> Commands => [.. Applied.Where(e => e.Type == EntryType.Normal && !e.Data.IsEmpty).Select(e => e.Data.ToStringUtf8())];

    /// <summary>Snapshots received from leaders, by (index, term), not yet installed (several can arrive before the core takes one).</summary>
    public Dictionary<(ulong Index, ulong Term), List<Entry>> Incoming { get; } = [];

    /// <summary>The whole log: the snapshot's part, then the entries after it.</summary>
    public IEnumerable<Entry> Log => SnapshotState.Concat(Entries);

    /// <summary>Replaces what the disk holds (scripted scenarios set up logs like the paper's figures).</summary>
    public void Overwrite(HardState hardState, IEnumerable<Entry> entries)
    {
        HardState = hardState.Clone();
        Entries.Clear();
        Entries.AddRange(entries.Select(e => e.Clone()));
    }

    /// <summary>
    /// A torn write: the snapshot (atomic), then the WAL's entries, then the hard state; only the
    /// first <paramref name="records"/> of that sequence survive.
    /// </summary>
    public void PersistPrefix(Ready ready, int records)
    {
        if (ready.Snapshot is not null)
        {
            if (records == 0)
            {
                return;
            }

            records--;
        }

        var entries = ready.Entries.Take(records).ToList();
        Persist(ready with { Entries = entries, HardState = records > ready.Entries.Count ? ready.HardState : null });
    }

    public void Persist(Ready ready)
    {
        if (ready.Snapshot is { } received)
        {
            SnapshotState = Incoming.GetValueOrDefault((received.Index, received.Term)) ?? throw new InvalidOperationException("a snapshot to install but none was received");
            Incoming.Clear();
            Snapshot = received.Clone();
            Entries.Clear();
        }

        if (ready.HardState is { } hardState)
        {
            HardState = hardState.Clone();
        }

        foreach (var entry in ready.Entries)
        {
            var position = (int)(entry.Index - Snapshot.Index) - 1;
            if (position < Entries.Count)
            {
                Entries.RemoveRange(position, Entries.Count - position);
            }

            Entries.Add(entry.Clone());
        }
    }

    /// <summary>The state machine after this Ready: the installed snapshot, then the committed entries in order.</summary>
    public void Apply(Ready ready)
    {
        if (ready.Snapshot is not null)
        {
            Applied.Clear();
            Applied.AddRange(SnapshotState);
        }

        foreach (var entry in ready.CommittedEntries)
        {
            if (entry.Index != (ulong)Applied.Count + 1)
            {
                throw new InvalidOperationException($"applied entry {entry.Index} after {Applied.Count}");
            }

            Applied.Add(entry.Clone());
        }
    }

    /// <summary>The node compacted through <paramref name="meta"/>: its state machine then is saved, the log before it dropped.</summary>
    public void SaveSnapshot(SnapshotMeta meta)
    {
        SnapshotState = [.. Applied.Take((int)meta.Index)];
        Entries.RemoveRange(0, (int)(meta.Index - Snapshot.Index));
        Snapshot = meta.Clone();
    }
}
