using Cluster.Gossip.Core;
using Cluster.Gossip.Wire;
using Cluster.Testing.Gossip;
using Google.Protobuf;

namespace Cluster.Tests.Gossip;

/// <summary>The SWIM + Lifeguard core on a simulated network in virtual time (seeded, so every run is the same run).</summary>
public sealed class GossipSimulationTests
{
    private static readonly TimeSpan ProbeInterval = new GossipOptions { Name = "x", Address = "x" }.ProbeInterval;

    private static readonly TimeSpan GossipInterval = new GossipOptions { Name = "x", Address = "x" }.GossipInterval;

    /// <summary>
    /// memberlist's model: up to a probe interval until someone probes the dead member, the
    /// failed probe's interval, a suspicion of 4·log10(N+1) probe intervals, then log2(N)
    /// gossip rounds to tell everyone.
    /// </summary>
    private static TimeSpan Model(int members) =>
        (ProbeInterval * 2) + (ProbeInterval * (4 * Math.Log10(members + 1))) + (GossipInterval * Math.Ceiling(Math.Log2(members)));

    [Fact]
    public void Members_that_join_through_one_member_all_see_each_other_alive()
    {
        var sim = new GossipSimulation(5, seed: 1);
        sim.Run(TimeSpan.FromSeconds(5));
        Assert.All(sim.Nodes.Values, node =>
        {
            Assert.Equal(5, node.Members.Count);
            Assert.All(node.Members, m => Assert.Equal(MemberStatus.Alive, m.Status));
        });
        Assert.DoesNotContain(sim.Events, e => e.Event.Kind == MembershipEventKind.Failed);
    }

    [Theory]
    [InlineData(5, 2)]
    [InlineData(20, 3)]
    [InlineData(50, 4)]
    public void A_killed_member_is_declared_failed_by_every_other_member_within_the_model_time(int members, int seed)
    {
        var sim = new GossipSimulation(members, seed);
        sim.Run(TimeSpan.FromSeconds(10));
        sim.Kill("n3");
        var detected = sim.RunUntil(() => sim.AllSee("n3", MemberStatus.Dead), TimeSpan.FromSeconds(120));
        Assert.NotNull(detected);
        Assert.True(detected <= Model(members), $"{members} members: everyone knew after {detected}, the model allows {Model(members)}");
        Assert.All(sim.Events.Where(e => e.Event.Kind == MembershipEventKind.Failed), e => Assert.Equal("n3", e.Event.Member.Name));
    }

    [Fact]
    public void Ten_percent_packet_loss_declares_nobody_failed()
    {
        var sim = new GossipSimulation(50, seed: 5) { LossRate = 0.1 };
        sim.Run(TimeSpan.FromSeconds(120));
        Assert.DoesNotContain(sim.Events, e => e.Event.Kind == MembershipEventKind.Failed);
        Assert.All(sim.Nodes.Values, n => Assert.Equal(50, n.Members.Count(m => m.Status == MemberStatus.Alive)));
    }

    [Fact]
    public void A_member_starved_of_cpu_is_not_declared_failed_and_others_stay_healthy()
    {
        var sim = new GossipSimulation(20, seed: 6);
        sim.Run(TimeSpan.FromSeconds(10));
        sim.Starved.Add("n4");
        sim.Run(TimeSpan.FromSeconds(120));
        Assert.DoesNotContain(sim.Events, e => e.Event.Kind == MembershipEventKind.Failed);
        Assert.True(sim.Nodes["n4"].Incarnation > 1, "it was suspected and refuted in time, again and again");
        Assert.All(sim.Nodes.Where(n => n.Key != "n4"), n => Assert.Equal(20, n.Value.Members.Count(m => m.Status is MemberStatus.Alive or MemberStatus.Suspect)));
    }

    [Fact]
    public void A_member_that_leaves_is_recorded_as_left_not_failed()
    {
        var sim = new GossipSimulation(10, seed: 7);
        sim.Run(TimeSpan.FromSeconds(5));
        sim.Nodes["n2"].Leave();
        sim.Flush(sim.Nodes["n2"]);
        sim.Run(TimeSpan.FromSeconds(1));
        sim.Kill("n2"); // the process exits after spreading the news
        Assert.NotNull(sim.RunUntil(() => sim.AllSee("n2", MemberStatus.Left), TimeSpan.FromSeconds(10)));
        sim.Run(TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(sim.Events, e => e.Event.Kind == MembershipEventKind.Failed);
    }

    [Fact]
    public void A_failed_member_that_restarts_rejoins_with_a_newer_incarnation()
    {
        var sim = new GossipSimulation(10, seed: 8);
        sim.Run(TimeSpan.FromSeconds(5));
        sim.Kill("n6");
        Assert.NotNull(sim.RunUntil(() => sim.AllSee("n6", MemberStatus.Dead), TimeSpan.FromSeconds(60)));
        var oldIncarnation = sim.Nodes["n0"].Find("n6")!.Incarnation;

        var address = sim.Nodes["n0"].Find("n6")!.Address;
        var restarted = new GossipNode(new GossipOptions { Name = "n6", Address = address }, new Random(99), sim.Now);
        sim.Nodes["n6"] = restarted;
        sim.Killed.Remove("n6");
        restarted.Join([sim.Nodes["n0"].Find("n0")!.Address]);
        sim.Flush(restarted);
        Assert.NotNull(sim.RunUntil(() => sim.AllSee("n6", MemberStatus.Alive), TimeSpan.FromSeconds(30)));
        Assert.True(restarted.Incarnation > oldIncarnation);
    }

    [Fact]
    public void Falsely_suspected_member_refutes_with_a_higher_incarnation()
    {
        var sim = new GossipSimulation(10, seed: 9);
        sim.Run(TimeSpan.FromSeconds(5));
        var before = sim.Nodes["n5"].Incarnation;
        sim.Cut("n1", "n5"); // n1 cannot reach n5 directly, the others can (indirect probes save it)
        sim.Run(TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(sim.Events, e => e.Event.Kind == MembershipEventKind.Failed);
        Assert.True(sim.AllSee("n5", MemberStatus.Alive));
        Assert.True(sim.Nodes["n5"].Incarnation >= before);
    }

    [Fact]
    public void Tags_and_user_events_reach_every_member()
    {
        var sim = new GossipSimulation(20, seed: 10);
        sim.Run(TimeSpan.FromSeconds(5));
        sim.Nodes["n7"].UpdateTags(new Dictionary<string, string> { ["role"] = "server", ["dc"] = "dc1" });
        sim.Nodes["n8"].SendUserEvent("ca-roots", ByteString.CopyFromUtf8("root-1"));
        var received = new Dictionary<string, int>();
        Assert.NotNull(sim.RunUntil(
            () =>
            {
                foreach (var (name, node) in sim.Nodes)
                {
                    received[name] = received.GetValueOrDefault(name) + node.TakeUserEvents().Count;
                }

                return sim.Nodes.Values.All(n => n.Find("n7")!.Tags.GetValueOrDefault("role") == "server") && received.Count(r => r.Value > 0) == 20;
            },
            TimeSpan.FromSeconds(10)));
        sim.Run(TimeSpan.FromSeconds(10));
        foreach (var (name, node) in sim.Nodes)
        {
            received[name] += node.TakeUserEvents().Count;
        }

        Assert.All(received, r => Assert.Equal(1, r.Value)); // once each, the sender included
        Assert.Contains(sim.Events, e => e.Event.Kind == MembershipEventKind.Updated && e.Event.Member.Name == "n7");
    }
}

/// <summary>Packets that make no sense are counted and dropped by the core; membership does not move.</summary>
public sealed class GossipMalformedInputTests
{
    [Fact]
    public void Senseless_packets_change_nothing()
    {
        var node = new GossipNode(new GossipOptions { Name = "a", Address = "10.0.0.1:8301" }, new Random(1), TimeSpan.Zero);
        node.Merge(new PushPull { From = "b", Members = { new MemberState { Node = "b", Address = "10.0.0.2:8301", Incarnation = 1 } } }, TimeSpan.Zero);
        var before = node.Members.Select(m => (m.Name, m.Status, m.Incarnation)).ToList();
        var now = TimeSpan.FromMilliseconds(1);

        Packet[] packets =
        [
            new Packet(), // no sender
            new Packet { From = "b" }, // no address to answer
            new Packet { From = "a", FromAddress = "10.0.0.9:8301", Ping = new Ping { Seq = 1 } }, // claims to be us
            new Packet { From = "b", FromAddress = "10.0.0.2:8301", Ping = new Ping { Seq = 2, Target = "someone-else" } },
            new Packet { From = "b", FromAddress = "10.0.0.2:8301", IndirectPing = new IndirectPing { Seq = 3, Target = "c" } }, // no target address
            new Packet { From = "b", FromAddress = "10.0.0.2:8301", Ack = new Ack { Seq = 12345 } }, // answers nothing we asked
            new Packet { From = "b", FromAddress = "10.0.0.2:8301", Nack = new Nack { Seq = 777 } },
            new Packet { From = "b", FromAddress = "10.0.0.2:8301", Broadcasts = { new Broadcast(), new Broadcast { Alive = new Alive { Node = "c" } }, new Broadcast { Suspect = new Suspect() }, new Broadcast { Dead = new Dead() }, new Broadcast { Event = new UserEvent() } } },
            new Packet { From = "b", FromAddress = "10.0.0.2:8301", Broadcasts = { new Broadcast { Suspect = new Suspect { Node = "nobody", Incarnation = 5, From = "b" } }, new Broadcast { Dead = new Dead { Node = "b", Incarnation = 0, From = "x" } } } }, // unknown member; stale incarnation
        ];
        foreach (var packet in packets)
        {
            node.Receive(packet, now);
        }

        node.Merge(new PushPull { From = "b", Members = { new MemberState(), new MemberState { Node = "c" } } }, now);

        Assert.Equal(before, node.Members.Select(m => (m.Name, m.Status, m.Incarnation)).ToList());
        Assert.True(node.Refused >= 9);
        Assert.DoesNotContain(node.TakeOutbox(), o => o is SendPacket { Packet.ProbeCase: Packet.ProbeOneofCase.Ack } send && send.Packet.Ack.Seq == 2);
    }
}
