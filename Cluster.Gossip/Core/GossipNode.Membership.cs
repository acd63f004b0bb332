using Cluster.Gossip.Wire;

namespace Cluster.Gossip.Core;

/// <summary>Membership state: alive / suspect / dead / left by incarnation, suspicion timers, full-state merges.</summary>
public sealed partial class GossipNode
{
    /// <summary>Feeds one packet (from UDP, or TCP when <paramref name="reliable"/>). Malformed packets are counted and dropped.</summary>
    public void Receive(Packet packet, TimeSpan now, bool reliable = false)
    {
        ArgumentNullException.ThrowIfNull(packet);
        _now = now > _now ? now : _now;
        if (packet.From.Length == 0 || packet.FromAddress.Length == 0 || packet.From == Name)
        {
            Refused++;
            return;
        }

        foreach (var broadcast in packet.Broadcasts)
        {
            Apply(broadcast);
        }

        switch (packet.ProbeCase)
        {
            case Packet.ProbeOneofCase.Ping:
                HandlePing(packet, reliable);
                break;
            case Packet.ProbeOneofCase.IndirectPing:
                HandleIndirectPing(packet);
                break;
            case Packet.ProbeOneofCase.Ack:
                HandleAck(packet.Ack);
                break;
            case Packet.ProbeOneofCase.Nack:
                HandleNack(packet.Nack);
                break;
        }

        if (packet.QueryResponse is { } response)
        {
            HandleQueryResponse(packet.From, response);
        }
    }

    /// <summary>This member's whole view, for a push-pull exchange.</summary>
    public PushPull LocalState(bool join)
    {
        var state = new PushPull { From = Name, Join = join, EventLamport = _lamport };
        foreach (var member in _members.Values)
        {
            var entry = new MemberState { Node = member.Name, Address = member.Address, Incarnation = member.Incarnation, Status = member.Status };
            entry.Tags.Add(member.Tags);
            state.Members.Add(entry);
        }

        return state;
    }

    /// <summary>
    /// Merges another member's full view. Dead entries from others count only as suspicion here,
    /// so a member wrongly believed dead elsewhere gets its chance to refute; "left" is final.
    /// </summary>
    public void Merge(PushPull remote, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(remote);
        _now = now > _now ? now : _now;
        _lamport = Math.Max(_lamport, remote.EventLamport);
        foreach (var entry in remote.Members)
        {
            if (entry.Node.Length == 0 || entry.Address.Length == 0)
            {
                Refused++;
                continue;
            }

            switch (entry.Status)
            {
                case MemberStatus.Alive:
                    var alive = new Alive { Node = entry.Node, Incarnation = entry.Incarnation, Address = entry.Address };
                    alive.Tags.Add(entry.Tags);
                    AliveMember(alive);
                    break;
                case MemberStatus.Left:
                    if (!_members.ContainsKey(entry.Node))
                    {
                        break; // nothing to forget
                    }

                    DeadMember(new Dead { Node = entry.Node, Incarnation = entry.Incarnation, From = entry.Node });
                    break;
                default:
                    if (_members.ContainsKey(entry.Node))
                    {
                        SuspectMember(entry.Node, entry.Incarnation, from: remote.From);
                    }
                    else
                    {
                        // Unknown and said to be down: learn it as alive at that incarnation, then suspect it.
                        var unknown = new Alive { Node = entry.Node, Incarnation = entry.Incarnation, Address = entry.Address };
                        unknown.Tags.Add(entry.Tags);
                        AliveMember(unknown);
                        SuspectMember(entry.Node, entry.Incarnation, from: remote.From);
                    }

                    break;
            }
        }
    }

    private void Apply(Broadcast broadcast)
    {
        switch (broadcast.KindCase)
        {
            case Wire.Broadcast.KindOneofCase.Alive when broadcast.Alive.Node.Length > 0 && broadcast.Alive.Address.Length > 0:
                AliveMember(broadcast.Alive);
                break;
            case Wire.Broadcast.KindOneofCase.Suspect when broadcast.Suspect.Node.Length > 0:
                SuspectMember(broadcast.Suspect.Node, broadcast.Suspect.Incarnation, broadcast.Suspect.From);
                break;
            case Wire.Broadcast.KindOneofCase.Dead when broadcast.Dead.Node.Length > 0:
                DeadMember(broadcast.Dead);
                break;
            case Wire.Broadcast.KindOneofCase.Event when broadcast.Event.Name.Length > 0 && broadcast.Event.Origin.Length > 0:
                HandleUserEvent(broadcast.Event);
                break;
            case Wire.Broadcast.KindOneofCase.Query when broadcast.Query.Name.Length > 0 && broadcast.Query.Origin.Length > 0 && broadcast.Query.OriginAddress.Length > 0:
                HandleQuery(broadcast.Query);
                break;
            default:
                Refused++;
                break;
        }
    }

    private void AliveMember(Alive alive)
    {
        if (alive.Node == Name)
        {
            // Someone spreads an older (or forged) view of us: out-incarnate it.
            if (alive.Incarnation > Incarnation || (alive.Incarnation == Incarnation && alive.Address != _options.Address))
            {
                Refute(alive.Incarnation);
            }

            return;
        }

        if (!_members.TryGetValue(alive.Node, out var member))
        {
            member = new State(alive.Node, alive.Address) { Incarnation = alive.Incarnation, Status = MemberStatus.Alive, Since = _now };
            foreach (var (key, value) in alive.Tags)
            {
                member.Tags[key] = value;
            }

            _members[alive.Node] = member;
            RingAdd(alive.Node);
            Broadcast(alive.Node, new Broadcast { Alive = alive });
            _events.Add(new MembershipEvent(MembershipEventKind.Joined, member.ToMember()));
            return;
        }

        // A newer incarnation wins; at the same one, "alive" does not override a suspicion (only the member itself refutes, with a higher one).
        var rejoin = member.Status is MemberStatus.Dead or MemberStatus.Left;
        if (alive.Incarnation <= member.Incarnation && !(rejoin && alive.Incarnation > member.Incarnation))
        {
            return;
        }

        var tagsChanged = !member.Tags.OrderBy(t => t.Key).SequenceEqual(alive.Tags.OrderBy(t => t.Key)) || member.Address != alive.Address;
        member.Incarnation = alive.Incarnation;
        member.Address = alive.Address;
        member.Tags.Clear();
        foreach (var (key, value) in alive.Tags)
        {
            member.Tags[key] = value;
        }

        member.Suspicion = null;
        var wasUp = member.Status is MemberStatus.Alive or MemberStatus.Suspect;
        member.Status = MemberStatus.Alive;
        if (!wasUp)
        {
            member.Since = _now;
            RingAdd(member.Name);
        }

        Broadcast(alive.Node, new Broadcast { Alive = alive });
        if (!wasUp)
        {
            _events.Add(new MembershipEvent(MembershipEventKind.Joined, member.ToMember()));
        }
        else if (tagsChanged)
        {
            _events.Add(new MembershipEvent(MembershipEventKind.Updated, member.ToMember()));
        }
    }

    private void SuspectMember(string node, ulong incarnation, string from)
    {
        if (node == Name)
        {
            if (incarnation >= Incarnation && !_leaving)
            {
                Refute(incarnation);
                AdjustAwareness(1); // Lifeguard: being suspected hints that we are the slow one
            }

            return;
        }

        if (!_members.TryGetValue(node, out var member) || incarnation < member.Incarnation || member.Status is MemberStatus.Dead or MemberStatus.Left)
        {
            return;
        }

        if (member.Status == MemberStatus.Suspect)
        {
            // An independent confirmation shortens the suspicion (Lifeguard).
            if (member.Suspicion is { } suspicion && suspicion.Confirm(from))
            {
                Broadcast(node, new Broadcast { Suspect = new Suspect { Node = node, Incarnation = incarnation, From = from } });
            }

            return;
        }

        member.Incarnation = incarnation;
        member.Status = MemberStatus.Suspect;
        member.Since = _now;
        member.Suspicion = NewSuspicion(from);
        _suspects.Add(node);

        // A few members (about eight, whatever the pool's size) probe a new suspect next rather
        // than in turn: confirmations, or the suspect's refutation, come within a probe or two
        // instead of waiting for the round robin, without every member probing it at once.
        if (from != Name && _random.NextDouble() < Math.Min(1.0, 8.0 / Math.Max(1, AliveCount)))
        {
            _probeFirst.Add(node);
        }

        Broadcast(node, new Broadcast { Suspect = new Suspect { Node = node, Incarnation = incarnation, From = from } });
    }

    private void DeadMember(Dead dead)
    {
        if (dead.Node == Name)
        {
            if (!_leaving && dead.Incarnation >= Incarnation)
            {
                Refute(dead.Incarnation);
            }

            return;
        }

        if (!_members.TryGetValue(dead.Node, out var member) || dead.Incarnation < member.Incarnation || member.Status is MemberStatus.Dead or MemberStatus.Left)
        {
            return;
        }

        var left = dead.From == dead.Node;
        member.Incarnation = dead.Incarnation;
        member.Status = left ? MemberStatus.Left : MemberStatus.Dead;
        member.Since = _now;
        member.Suspicion = null;
        RingRemove(dead.Node);
        Broadcast(dead.Node, new Broadcast { Dead = dead });
        _events.Add(new MembershipEvent(left ? MembershipEventKind.Left : MembershipEventKind.Failed, member.ToMember()));
    }

    /// <summary>Claims a newer incarnation than <paramref name="heard"/> so the whole pool learns we are alive.</summary>
    private void Refute(ulong heard)
    {
        var self = _members[Name];
        self.Incarnation = Math.Max(self.Incarnation, heard) + 1;
        Broadcast(Name, new Broadcast { Alive = self.ToAlive() });
    }

    /// <summary>
    /// Lifeguard's dynamic suspicion timeout: from max = SuspicionMaxTimeoutMult · min down to
    /// min = SuspicionMult · log10(N) · ProbeInterval as independent confirmations arrive
    /// (log-scaled over the K = SuspicionMult − 2 confirmations expected).
    /// </summary>
    private Suspicion NewSuspicion(string from)
    {
        var n = Math.Max(1, AliveCount);
        // SuspicionMult · log10(N + 1) intervals, the model's own figure (memberlist floors log10 N at 1,
        // which makes pools under ten members slower than the model); never under two intervals.
        var min = _options.ProbeInterval * Math.Max(2.0, _options.SuspicionMult * Math.Log10(n + 1));
        var max = min * _options.SuspicionMaxTimeoutMult;
        var k = n - 2 < _options.SuspicionMult - 2 ? 0 : _options.SuspicionMult - 2;
        return new Suspicion(from, _now, min, max, k);
    }

    private void CheckSuspicions()
    {
        foreach (var name in _suspects.ToList())
        {
            if (!_members.TryGetValue(name, out var member) || member.Suspicion is null)
            {
                _suspects.Remove(name);
            }
            else if (_now >= member.Suspicion.Deadline)
            {
                _suspects.Remove(name);
                DeadMember(new Dead { Node = member.Name, Incarnation = member.Incarnation, From = Name });
            }
        }
    }

    private void Reap()
    {
        foreach (var member in _members.Values.Where(m => m.Name != Name && m.Status is MemberStatus.Dead or MemberStatus.Left && _now - m.Since >= _options.DeadReclaimTime).ToList())
        {
            _members.Remove(member.Name);
            _events.Add(new MembershipEvent(MembershipEventKind.Reaped, member.ToMember()));
        }
    }

    private sealed class State(string name, string address)
    {
        public string Name { get; } = name;

        public string Address { get; set; } = address;

        public ulong Incarnation { get; set; }

        public MemberStatus Status { get; set; }

        public TimeSpan Since { get; set; }

        public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);

        public Suspicion? Suspicion { get; set; }

        public Member ToMember() => new(Name, Address, Incarnation, Status, new Dictionary<string, string>(Tags), Since);

        public Alive ToAlive()
        {
            var alive = new Alive { Node = Name, Incarnation = Incarnation, Address = Address };
            alive.Tags.Add(Tags);
            return alive;
        }
    }

    private sealed class Suspicion(string from, TimeSpan start, TimeSpan min, TimeSpan max, int expected)
    {
        private readonly HashSet<string> _confirmations = [from];
        private readonly TimeSpan _start = start;

        public TimeSpan Deadline { get; private set; } = start + (expected < 1 ? min : max);

        /// <summary>True if <paramref name="from"/> is a new, independent confirmation (the deadline moved).</summary>
        public bool Confirm(string from)
        {
            if (expected < 1 || _confirmations.Count > expected || !_confirmations.Add(from))
            {
                return false;
            }

            var confirmations = _confirmations.Count - 1;
            var fraction = Math.Log(confirmations + 1) / Math.Log(expected + 1);
            var timeout = max - ((max - min) * fraction);
            Deadline = _start + (timeout < min ? min : timeout);
            return true;
        }
    }
}
