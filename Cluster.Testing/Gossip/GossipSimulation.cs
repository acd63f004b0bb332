using Cluster.Gossip.Core;
using Cluster.Gossip.Wire;

namespace Cluster.Testing.Gossip;

/// <summary>
/// Gossip members on a simulated network in virtual time, driven by one seeded random source:
/// UDP packets with latency and loss, TCP (reliable sends, push-pull) subject only to
/// partitions, members that are killed, and members starved of CPU (they run only now and
/// then, so everything they do is late). The same seed replays the same run exactly.
/// </summary>
public sealed class GossipSimulation
{
    private readonly Random _random;
    private readonly PriorityQueue<(string To, Packet Packet, bool Reliable), (TimeSpan, long)> _wire = new();
    private readonly Dictionary<string, string> _nameByAddress = [];
    private readonly HashSet<(string, string)> _cut = [];
    private readonly Dictionary<string, List<(Packet Packet, bool Reliable)>> _starvedInbox = [];
    private long _order;

    public GossipSimulation(int members, int seed, Func<GossipOptions, GossipOptions>? configure = null, bool joined = true)
    {
        _random = new Random(seed);
        for (var i = 0; i < members; i++)
        {
            var name = $"n{i}";
            var options = new GossipOptions { Name = name, Address = $"10.0.{i / 250}.{(i % 250) + 1}:8301" };
            options = configure?.Invoke(options) ?? options;
            Nodes[name] = new GossipNode(options, new Random(_random.Next()), Now);
            _nameByAddress[options.Address] = name;
        }

        if (joined)
        {
            // Everyone joins through n0, one after another, as -retry-join would do.
            foreach (var node in Nodes.Values.Skip(1))
            {
                node.Join([Nodes["n0"].Members.Single(m => m.Name == "n0").Address]);
                Flush(node);
            }
        }
    }

    public TimeSpan Now { get; private set; }

    public Dictionary<string, GossipNode> Nodes { get; } = [];

    public HashSet<string> Killed { get; } = [];

    /// <summary>Members that run only every <see cref="StarvedPeriod"/> (a CPU-starved process).</summary>
    public HashSet<string> Starved { get; } = [];

    public TimeSpan StarvedPeriod { get; set; } = TimeSpan.FromMilliseconds(1500);

    /// <summary>Chance that a UDP packet is lost.</summary>
    public double LossRate { get; set; }

    public TimeSpan MinLatency { get; set; } = TimeSpan.FromMilliseconds(1);

    public TimeSpan MaxLatency { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Every membership event, with when and where it happened.</summary>
    public List<(TimeSpan At, string Observer, MembershipEvent Event)> Events { get; } = [];

    public long PacketsSent { get; private set; }

    /// <summary>Called for each UDP packet a member sends: (time, from, to, packet).</summary>
    public Action<TimeSpan, string, string, Packet>? Sent { get; set; }

    public long BytesSent { get; private set; }

    public void Kill(string name) => Killed.Add(name);

    public void Cut(string a, string b)
    {
        _cut.Add((a, b));
        _cut.Add((b, a));
    }

    public void Heal() => _cut.Clear();

    /// <summary>Runs virtual time forward in steps of <paramref name="step"/>.</summary>
    public void Run(TimeSpan duration, TimeSpan? step = null)
    {
        var increment = step ?? TimeSpan.FromMilliseconds(10);
        var end = Now + duration;
        while (Now < end)
        {
            Now += increment;
            Deliver();
            foreach (var (name, node) in Nodes)
            {
                if (Killed.Contains(name) || !Runs(name))
                {
                    continue;
                }

                if (Starved.Contains(name) && _starvedInbox.Remove(name, out var late))
                {
                    foreach (var (packet, reliable) in late)
                    {
                        node.Receive(packet, Now, reliable);
                    }
                }

                if (node.NextDue <= Now || Starved.Contains(name))
                {
                    node.Tick(Now);
                }

                Flush(node);
            }
        }
    }

    /// <summary>Runs until <paramref name="condition"/> holds (checked every step), at most <paramref name="limit"/>; returns the time it took or null.</summary>
    public TimeSpan? RunUntil(Func<bool> condition, TimeSpan limit)
    {
        var start = Now;
        while (Now - start < limit)
        {
            if (condition())
            {
                return Now - start;
            }

            Run(TimeSpan.FromMilliseconds(10));
        }

        return condition() ? Now - start : null;
    }

    /// <summary>True when every running member sees <paramref name="name"/> with <paramref name="status"/>.</summary>
    public bool AllSee(string name, MemberStatus status) =>
        Nodes.Where(n => n.Key != name && !Killed.Contains(n.Key)).All(n => n.Value.Find(name)?.Status == status);

    public void Flush(GossipNode node)
    {
        foreach (var outgoing in node.TakeOutbox())
        {
            if (!_nameByAddress.TryGetValue(outgoing.Address, out var to))
            {
                continue;
            }

            switch (outgoing)
            {
                case SendPacket send:
                    Count(send.Packet);
                    Sent?.Invoke(Now, node.Name, to, send.Packet);
                    if (_random.NextDouble() >= LossRate)
                    {
                        Enqueue(to, send.Packet, reliable: false);
                    }

                    break;
                case SendReliable reliable:
                    Count(reliable.Packet);
                    Enqueue(to, reliable.Packet, reliable: true);
                    break;
                case StartPushPull pushPull when !Killed.Contains(to) && !_cut.Contains((node.Name, to)):
                    var remote = Nodes[to];
                    var theirs = remote.LocalState(pushPull.Join);
                    remote.Merge(node.LocalState(pushPull.Join), Now);
                    node.Merge(theirs, Now);
                    break;
            }
        }

        foreach (var membershipEvent in node.TakeEvents())
        {
            Events.Add((Now, node.Name, membershipEvent));
        }
    }

    private bool Runs(string name) => !Starved.Contains(name) || Now.Ticks % StarvedPeriod.Ticks < TimeSpan.FromMilliseconds(10).Ticks;

    private void Count(Packet packet)
    {
        PacketsSent++;
        BytesSent += Google.Protobuf.MessageExtensions.ToByteArray(packet).Length;
    }

    private void Enqueue(string to, Packet packet, bool reliable)
    {
        var latency = MinLatency + TimeSpan.FromTicks((long)((MaxLatency - MinLatency).Ticks * _random.NextDouble()));
        _wire.Enqueue((to, packet, reliable), (Now + latency, _order++));
    }

    private void Deliver()
    {
        while (_wire.TryPeek(out var item, out var due) && due.Item1 <= Now)
        {
            _wire.Dequeue();
            var (to, packet, reliable) = item;
            if (Killed.Contains(to) || _cut.Contains((_nameByAddress[packet.FromAddress], to)))
            {
                continue;
            }

            if (Starved.Contains(to) && !Runs(to))
            {
                (_starvedInbox.TryGetValue(to, out var inbox) ? inbox : _starvedInbox[to] = []).Add((packet, reliable));
                continue;
            }

            Nodes[to].Receive(packet, Now, reliable);
        }
    }
}
