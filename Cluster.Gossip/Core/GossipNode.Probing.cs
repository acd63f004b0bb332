using Cluster.Gossip.Wire;

namespace Cluster.Gossip.Core;

/// <summary>Failure detection: a probe per interval, indirect probes, and Lifeguard's awareness score.</summary>
public sealed partial class GossipNode
{
    private void StartProbe(long round)
    {
        var target = NextProbeTarget(round);
        if (target is null)
        {
            return;
        }

        var seq = ++_sequence;
        _probes[seq] = new Probe(target.Name)
        {
            Timeout = _now + Scale(_options.ProbeTimeout),
            End = _now + Scale(_options.ProbeInterval),
        };
        var packet = NewPacket();
        packet.Ping = new Ping { Seq = seq, Target = target.Name };

        // Buddy system: a suspected member hears of it first, on the probe itself, and can refute at once.
        Send(target.Address, packet, first: target.Status == MemberStatus.Suspect ? target.Name : null);
    }

    /// <summary>
    /// The probe schedule. Rounds are probe intervals on the pool's shared clock (<see cref="GossipOptions.ClockOffset"/>);
    /// in round r every member probes the member 1 + (r mod (M − 1)) places after itself in the ring
    /// of the M live members sorted by name. While members agree on the ring and the clock, every
    /// member is probed exactly once per round (a dead one is found by its next round's prober,
    /// within one interval, where independent shuffled round robins leave a Poisson wait), and each
    /// member still probes every other within M − 1 rounds. Disagreement only makes a round look
    /// like the random schedule. Suspects queued by <see cref="SuspectMember"/> go first.
    /// </summary>
    private State? NextProbeTarget(long round)
    {
        while (_probeFirst.Count > 0)
        {
            var name = _probeFirst[0];
            _probeFirst.RemoveAt(0);
            if (_members.TryGetValue(name, out var suspect) && suspect.Status is MemberStatus.Alive or MemberStatus.Suspect)
            {
                return suspect;
            }
        }

        var ring = _ring;
        var self = ring.BinarySearch(Name, StringComparer.Ordinal);
        if (ring.Count < 2 || self < 0)
        {
            return null;
        }

        var shift = 1 + (int)(((round % (ring.Count - 1)) + ring.Count - 1) % (ring.Count - 1));
        return _members[ring[(self + shift) % ring.Count]];
    }

    private void RingAdd(string name)
    {
        var at = _ring.BinarySearch(name, StringComparer.Ordinal);
        if (at < 0)
        {
            _ring.Insert(~at, name);
        }
    }

    private void RingRemove(string name)
    {
        var at = _ring.BinarySearch(name, StringComparer.Ordinal);
        if (at >= 0)
        {
            _ring.RemoveAt(at);
        }
    }

    /// <summary>The probe round <paramref name="time"/> falls in, on the pool's shared clock.</summary>
    private long Round(TimeSpan time) => (time + _options.ClockOffset).Ticks / _options.ProbeInterval.Ticks;

    private TimeSpan RoundStart(long round) => TimeSpan.FromTicks(round * _options.ProbeInterval.Ticks) - _options.ClockOffset;

    private void CheckProbes()
    {
        foreach (var (seq, probe) in _probes.ToList())
        {
            if (probe.Acked)
            {
                _probes.Remove(seq);
                continue;
            }

            if (!_members.TryGetValue(probe.Target, out var target) || target.Status is MemberStatus.Dead or MemberStatus.Left)
            {
                _probes.Remove(seq);
                continue;
            }

            if (!probe.IndirectSent && _now >= probe.Timeout)
            {
                probe.IndirectSent = true;
                foreach (var helper in RandomMembers(_options.IndirectChecks, except: probe.Target))
                {
                    var packet = NewPacket();
                    packet.IndirectPing = new IndirectPing { Seq = seq, Target = probe.Target, TargetAddress = target.Address, WantNack = true };
                    Send(helper.Address, packet);
                    probe.ExpectedNacks++;
                }

                // TCP fallback: a member reachable only over TCP (UDP filtered or lossy) still answers.
                var reliable = NewPacket();
                reliable.Ping = new Ping { Seq = seq, Target = probe.Target };
                _outbox.Add(new SendReliable(target.Address, reliable));
            }

            if (_now >= probe.End)
            {
                _probes.Remove(seq);

                // Lifeguard: a failed probe is a sign of our own trouble too, and so is every
                // helper that did not even send a nack back.
                AdjustAwareness(1 + Math.Max(0, probe.ExpectedNacks - probe.Nacks));
                SuspectMember(target.Name, target.Incarnation, from: Name);
            }
        }
    }

    private void CheckRelays()
    {
        foreach (var (seq, relay) in _relays.Where(r => _now >= r.Value.Deadline).ToList())
        {
            _relays.Remove(seq);
            if (relay.WantNack)
            {
                var packet = NewPacket();
                packet.Nack = new Nack { Seq = relay.RequesterSeq };
                Send(relay.RequesterAddress, packet);
            }
        }
    }

    private void AdjustAwareness(int delta) =>
        Awareness = Math.Clamp(Awareness + delta, 0, _options.AwarenessMaxMultiplier - 1);

    private void HandlePing(Packet packet, bool reliable)
    {
        if (packet.Ping.Target.Length > 0 && packet.Ping.Target != Name)
        {
            Refused++; // meant for a member that used to be at this address
            return;
        }

        var reply = NewPacket();
        reply.Ack = new Ack { Seq = packet.Ping.Seq };
        if (reliable)
        {
            _outbox.Add(new SendReliable(packet.FromAddress, reply));
        }
        else
        {
            Send(packet.FromAddress, reply);
        }
    }

    private void HandleIndirectPing(Packet packet)
    {
        var request = packet.IndirectPing;
        if (request.TargetAddress.Length == 0 || request.Target == Name)
        {
            Refused++;
            return;
        }

        var seq = ++_sequence;
        _relays[seq] = new Relay(packet.FromAddress, request.Seq, request.WantNack, _now + Scale(_options.ProbeTimeout));
        var ping = NewPacket();
        ping.Ping = new Ping { Seq = seq, Target = request.Target };
        Send(request.TargetAddress, ping);
    }

    private void HandleAck(Ack ack)
    {
        if (_probes.TryGetValue(ack.Seq, out var probe))
        {
            if (!probe.Acked)
            {
                probe.Acked = true;
                AdjustAwareness(-1);
            }

            return;
        }

        if (_relays.Remove(ack.Seq, out var relay))
        {
            var forward = NewPacket();
            forward.Ack = new Ack { Seq = relay.RequesterSeq };
            Send(relay.RequesterAddress, forward);
        }
    }

    private void HandleNack(Nack nack)
    {
        if (_probes.TryGetValue(nack.Seq, out var probe))
        {
            probe.Nacks++;
        }
    }
}
