using Cluster.Gossip.Wire;

namespace Cluster.Gossip.Core;

/// <summary>Failure detection: a probe per interval, indirect probes, and Lifeguard's awareness score.</summary>
public sealed partial class GossipNode
{
    private void StartProbe()
    {
        var target = NextProbeTarget();
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

    /// <summary>Round-robin over a shuffled list of members, reshuffled each pass (every member is probed within a bounded time).</summary>
    private State? NextProbeTarget()
    {
        for (var attempts = 0; attempts < 2; attempts++)
        {
            while (_probeIndex < _probeOrder.Count)
            {
                var name = _probeOrder[_probeIndex++];
                if (name != Name && _members.TryGetValue(name, out var member) && member.Status is MemberStatus.Alive or MemberStatus.Suspect)
                {
                    return member;
                }
            }

            _probeOrder.Clear();
            _probeOrder.AddRange(_members.Keys.OrderBy(_ => _random.Next()));
            _probeIndex = 0;
        }

        return null;
    }

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
