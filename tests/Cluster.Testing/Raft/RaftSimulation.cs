using Cluster.Raft.Core;
using Cluster.Raft.Wire;
using Google.Protobuf;

namespace Cluster.Testing.Raft;

/// <summary>
/// Raft nodes on a simulated network, in one thread, driven by a seeded random source: ticks,
/// message delivery (with loss and cut links), a simulated disk per node, crash and restart.
/// The same seed replays the same run exactly.
/// </summary>
public sealed class RaftSimulation
{
    private readonly Random _random;
    private readonly RaftOptions _template;
    private readonly List<Message> _inFlight = [];
    private readonly HashSet<(ulong From, ulong To)> _cut = [];

    public RaftSimulation(int nodes, int seed, RaftOptions? template = null)
    {
        _random = new Random(seed);
        _template = template ?? new RaftOptions { Id = 1 };
        Ids = [.. Enumerable.Range(1, nodes).Select(i => (ulong)i)];
        foreach (var id in Ids)
        {
            Disks[id] = new SimDisk();
            Start(id);
        }
    }

    public ulong[] Ids { get; }

    public Dictionary<ulong, RaftNode> Nodes { get; } = [];

    public Dictionary<ulong, SimDisk> Disks { get; } = [];

    /// <summary>Read indexes released, by node, in order.</summary>
    public List<(ulong Node, ReadState Read)> Reads { get; } = [];

    public HashSet<ulong> Down { get; } = [];

    /// <summary>Every (term, leader) ever observed, to check Election Safety.</summary>
    public HashSet<(ulong Term, ulong Leader)> LeadersSeen { get; } = [];

    public double DropRate { get; set; }

    /// <summary>Chance that a node loses power in the middle of persisting a Ready (un-fsynced records are lost).</summary>
    public double CrashMidWriteRate { get; set; }

    public int MidWriteCrashes { get; private set; }

    /// <summary>When set, only messages it accepts are delivered (scripted scenarios).</summary>
    public Func<Message, bool>? Deliver { get; set; }

    public RaftNode? Leader => Nodes.Values.Where(n => !Down.Contains(n.Id) && n.Role == RaftRole.Leader).MaxBy(n => n.Term);

    public void Cut(ulong a, ulong b)
    {
        _cut.Add((a, b));
        _cut.Add((b, a));
    }

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
        _inFlight.RemoveAll(m => m.To == id || m.From == id);
    }

    /// <summary>Restarts from what the node's disk holds.</summary>
    public void Restart(ulong id)
    {
        Down.Remove(id);
        Start(id);
    }

    public bool Propose(ulong id, string command) => Nodes[id].Propose(ByteString.CopyFromUtf8(command));

    /// <summary>Ticks every live node, then delivers until quiet.</summary>
    public void Tick(int ticks = 1)
    {
        for (var i = 0; i < ticks; i++)
        {
            foreach (var id in Ids.Where(id => !Down.Contains(id)))
            {
                Nodes[id].Tick();
            }

            Pump();
        }
    }

    /// <summary>Runs ticks until a leader exists that every live, connected node follows (bounded).</summary>
    public RaftNode ElectLeader(int maxTicks = 500)
    {
        for (var i = 0; i < maxTicks; i++)
        {
            Tick();
            if (Leader is { } leader && Nodes.Values.Where(n => !Down.Contains(n.Id) && !_cut.Contains((leader.Id, n.Id))).All(n => n.Leader == leader.Id))
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
            foreach (var id in Ids.Where(id => !Down.Contains(id)).ToList())
            {
                var node = Nodes[id];
                while (!Down.Contains(id) && node.HasReady)
                {
                    moved = true;
                    var ready = node.GetReady();
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
                    _inFlight.AddRange(ready.Messages);
                    Reads.AddRange(ready.ReadStates.Select(r => (id, r)));
                    Disks[id].Apply(ready.CommittedEntries);
                    node.Advance(ready);
                    if (ready.Role == RaftRole.Leader)
                    {
                        LeadersSeen.Add((ready.Term, id));
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
            foreach (var message in batch)
            {
                if (Down.Contains(message.To) || _cut.Contains((message.From, message.To)) || (DropRate > 0 && _random.NextDouble() < DropRate) ||
                    (Deliver is { } deliver && !deliver(message)))
                {
                    continue;
                }

                Nodes[message.To].Step(message);
            }
        }

        throw new InvalidOperationException("the simulated cluster did not settle");
    }

    private void Start(ulong id)
    {
        var disk = Disks[id];
        Nodes[id] = new RaftNode(_template with { Id = id }, Ids, new Random(_random.Next()), disk.HardState.Clone(), [.. disk.Entries]);
        disk.Applied.Clear();
    }
}

/// <summary>What a node's disk holds: hard state and entries (later writes at an index replace the rest), and what it applied.</summary>
public sealed class SimDisk
{
    public HardState HardState { get; private set; } = new();

    public List<Entry> Entries { get; } = [];

    public List<Entry> Applied { get; } = [];

    /// <summary>
    /// A torn write: the WAL appends the entries, then the hard state; only the first
    /// <paramref name="records"/> of that sequence survive.
    /// </summary>
    public void PersistPrefix(Ready ready, int records)
    {
        var entries = ready.Entries.Take(records).ToList();
        Persist(ready with { Entries = entries, HardState = records > ready.Entries.Count ? ready.HardState : null });
    }

    public void Persist(Ready ready)
    {
        if (ready.HardState is { } hardState)
        {
            HardState = hardState.Clone();
        }

        foreach (var entry in ready.Entries)
        {
            var position = (int)entry.Index - 1;
            if (position < Entries.Count)
            {
                Entries.RemoveRange(position, Entries.Count - position);
            }

            Entries.Add(entry.Clone());
        }
    }

    public void Apply(IReadOnlyList<Entry> committed)
    {
        foreach (var entry in committed)
        {
            if (entry.Index != (ulong)Applied.Count + 1)
            {
                throw new InvalidOperationException($"applied entry {entry.Index} after {Applied.Count}");
            }

            Applied.Add(entry.Clone());
        }
    }
}
