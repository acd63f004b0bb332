using Cluster.Gossip.Wire;

namespace Cluster.Gossip.Core;

/// <summary>
/// One member of a gossip pool as a pure state machine: SWIM (probes, indirect probes through
/// k members, suspicion, dissemination piggybacked on probes) with the Lifeguard extensions
/// (local health awareness stretches this member's timeouts when it misses its own deadlines;
/// suspicion timeouts shrink with independent confirmations; the suspected member is told
/// first). Inputs carry the time (<see cref="Tick"/>, <see cref="Receive"/>); outputs are
/// <see cref="TakeOutbox"/> and <see cref="TakeEvents"/>. No sockets, clock or threads inside,
/// randomness from the injected <see cref="Random"/>: a simulation replays exactly.
/// </summary>
public sealed partial class GossipNode
{
    private readonly GossipOptions _options;
    private readonly Random _random;
    private readonly Dictionary<string, State> _members = new(StringComparer.Ordinal);
    private readonly BroadcastQueue _broadcasts = new();
    private readonly Dictionary<uint, Probe> _probes = [];
    private readonly Dictionary<uint, Relay> _relays = [];
    private readonly ReplayWindow _seen = new(EventWindow);
    private readonly Dictionary<ulong, OpenQuery> _openQueries = [];

    // Members under suspicion, and when each stops being dead-or-left news worth keeping (cheap checks at a thousand members).
    private readonly HashSet<string> _suspects = new(StringComparer.Ordinal);
    private TimeSpan _nextReap;
    private List<Outgoing> _outbox = [];
    private List<MembershipEvent> _events = [];
    private List<UserEvent> _userEvents = [];
    private List<Query> _queries = [];
    private List<QueryAnswer> _answers = [];
    // Suspects this member probes before its scheduled target; the ring: live members (alive or suspect) sorted by name.
    private readonly List<string> _probeFirst = [];
    private readonly List<string> _ring = [];
    private uint _sequence;
    private TimeSpan _now;
    private TimeSpan _nextProbe;
    private TimeSpan _nextGossip;
    private TimeSpan _nextPushPull;
    private ulong _lamport;
    private bool _leaving;

    public GossipNode(GossipOptions options, Random random, TimeSpan now)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _random = random ?? throw new ArgumentNullException(nameof(random));
        _now = now;
        var self = new State(options.Name, options.Address) { Incarnation = 1, Status = MemberStatus.Alive, Since = now };
        foreach (var (key, value) in options.Tags)
        {
            self.Tags[key] = value;
        }

        _members[options.Name] = self;
        _ring.Add(self.Name);
        _nextProbe = RoundStart(Round(now) + 1);
        _nextGossip = now + options.GossipInterval;
        _nextPushPull = options.PushPullInterval > TimeSpan.Zero ? now + Jitter(options.PushPullInterval) : TimeSpan.MaxValue;
        Broadcast(self.Name, new Broadcast { Alive = self.ToAlive() });
    }

    public string Name => _options.Name;

    /// <summary>Lifeguard's local health score: 0 is healthy; timeouts scale by (score + 1).</summary>
    public int Awareness { get; private set; }

    public ulong Incarnation => _members[Name].Incarnation;

    /// <summary>Packets refused as malformed or impossible (never acted on).</summary>
    public long Refused { get; private set; }

    public IReadOnlyList<Member> Members => [.. _members.Values.Select(m => m.ToMember())];

    public Member? Find(string name) => _members.TryGetValue(name, out var state) ? state.ToMember() : null;

    private int AliveCount => _members.Values.Count(m => m.Status is MemberStatus.Alive or MemberStatus.Suspect);

    private TimeSpan Scale(TimeSpan value) => value * (Awareness + 1);

    /// <summary>Joins through the members at <paramref name="addresses"/> (a full-state exchange with each).</summary>
    public void Join(IEnumerable<string> addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        foreach (var address in addresses.Where(a => a != _options.Address))
        {
            _outbox.Add(new StartPushPull(address, Join: true));
        }
    }

    /// <summary>Leaves on purpose: others record "left", not "failed". Keep gossiping a little so it spreads.</summary>
    public void Leave()
    {
        var self = _members[Name];
        _leaving = true;
        self.Status = MemberStatus.Left;
        self.Since = _now;
        RingRemove(Name);
        Broadcast(Name, new Broadcast { Dead = new Dead { Node = Name, Incarnation = self.Incarnation, From = Name } });
        Gossip(force: true);
    }

    /// <summary>New tags for this member, spread with a new incarnation.</summary>
    public void UpdateTags(IReadOnlyDictionary<string, string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var self = _members[Name];
        self.Tags.Clear();
        foreach (var (key, value) in tags)
        {
            self.Tags[key] = value;
        }

        self.Incarnation++;
        Broadcast(Name, new Broadcast { Alive = self.ToAlive() });
    }

    public List<Outgoing> TakeOutbox()
    {
        var taken = _outbox;
        _outbox = [];
        return taken;
    }

    public List<MembershipEvent> TakeEvents()
    {
        var taken = _events;
        _events = [];
        return taken;
    }

    /// <summary>Runs whatever is due at <paramref name="now"/>: probes, their timeouts, suspicion timeouts, gossip, push-pull, reaping.</summary>
    public void Tick(TimeSpan now)
    {
        _now = now > _now ? now : _now;
        CheckProbes();
        CheckRelays();
        CheckSuspicions();
        ExpireQueries();
        if (_now >= _nextProbe)
        {
            var round = Round(_now);
            _nextProbe = RoundStart(round) + Scale(_options.ProbeInterval);
            if (!_leaving)
            {
                StartProbe(round);
            }
        }

        if (_now >= _nextGossip)
        {
            _nextGossip = _now + _options.GossipInterval;
            Gossip(force: false);
        }

        if (_now >= _nextPushPull)
        {
            _nextPushPull = _now + Jitter(_options.PushPullInterval);
            if (RandomMembers(1, except: null).FirstOrDefault() is { } peer)
            {
                _outbox.Add(new StartPushPull(peer.Address, Join: false));
            }
        }

        if (_now >= _nextReap)
        {
            _nextReap = _now + _options.ProbeInterval;
            Reap();
        }
    }

    /// <summary>The earliest time something is due (for a driver that sleeps in between).</summary>
    public TimeSpan NextDue
    {
        get
        {
            var due = new[] { _nextProbe, _nextGossip, _nextPushPull }.Min();
            foreach (var probe in _probes.Values)
            {
                due = Min(due, probe.Acked ? due : probe.IndirectSent ? probe.End : probe.Timeout);
            }

            foreach (var relay in _relays.Values)
            {
                due = Min(due, relay.Deadline);
            }

            foreach (var name in _suspects)
            {
                if (_members.TryGetValue(name, out var member) && member.Suspicion is { } suspicion)
                {
                    due = Min(due, suspicion.Deadline);
                }
            }

            return due;
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private TimeSpan Jitter(TimeSpan interval) => interval + TimeSpan.FromTicks((long)(interval.Ticks * 0.1 * _random.NextDouble()));

    private void Broadcast(string key, Broadcast broadcast) => _broadcasts.Add(key, broadcast);

    private int RetransmitLimit => _options.RetransmitMult * (int)Math.Ceiling(Math.Log10(_members.Count + 1));

    /// <summary>Up to <paramref name="count"/> random members other than this one (and <paramref name="except"/>) that are alive or suspect.</summary>
    private List<State> RandomMembers(int count, string? except) =>
        Sample(count, m => m.Name != except && m.Status is MemberStatus.Alive or MemberStatus.Suspect);

    /// <summary>A uniform sample without replacement (partial Fisher-Yates): O(N) to filter, O(count) to pick.</summary>
    private List<State> Sample(int count, Func<State, bool> eligible)
    {
        var candidates = new List<State>();
        foreach (var member in _members.Values)
        {
            if (member.Name != Name && eligible(member))
            {
                candidates.Add(member);
            }
        }

        count = Math.Min(count, candidates.Count);
        for (var i = 0; i < count; i++)
        {
            var j = _random.Next(i, candidates.Count);
            (candidates[i], candidates[j]) = (candidates[j], candidates[i]);
        }

        return candidates.GetRange(0, count);
    }

    /// <summary>An empty packet from this member; <see cref="Send"/> fills it with broadcasts.</summary>
    private Packet NewPacket() => new() { From = Name, FromAddress = _options.Address };

    private void Send(string address, Packet packet, string? first = null)
    {
        packet.Broadcasts.AddRange(_broadcasts.Take(_options.PacketBudget - packet.CalculateSize(), RetransmitLimit, first));
        _outbox.Add(new SendPacket(address, packet));
    }

    private void Gossip(bool force)
    {
        if (_broadcasts.Count == 0 && !force)
        {
            return;
        }

        // Recently dead members get the news too, so a member wrongly declared dead hears it and refutes.
        foreach (var peer in Sample(_options.GossipNodes, m => m.Status is MemberStatus.Alive or MemberStatus.Suspect || (m.Status == MemberStatus.Dead && _now - m.Since < _options.ProbeInterval * 4)))
        {
            if (_broadcasts.Count == 0)
            {
                break;
            }

            Send(peer.Address, NewPacket());
        }
    }

    private sealed class Probe(string target)
    {
        public string Target { get; } = target;

        public TimeSpan Timeout { get; init; }

        public TimeSpan End { get; init; }

        public bool Acked { get; set; }

        public bool IndirectSent { get; set; }

        public int ExpectedNacks { get; set; }

        public int Nacks { get; set; }
    }

    private sealed record Relay(string RequesterAddress, uint RequesterSeq, bool WantNack, TimeSpan Deadline);
}
