using Cluster.Gossip.Core;
using Cluster.Gossip.Wire;
using Cluster.Testing.Gossip;
using Google.Protobuf;

namespace Cluster.Tests.Gossip;

public sealed class GossipEventAndScheduleTests
{
    [Fact]
    public void While_members_agree_every_member_is_probed_exactly_once_per_round()
    {
        var sim = new GossipSimulation(12, seed: 21);
        sim.Run(TimeSpan.FromSeconds(20));
        var pings = new List<(long Round, string To)>();
        sim.Sent = (now, _, to, packet) =>
        {
            if (packet.ProbeCase == Packet.ProbeOneofCase.Ping)
            {
                pings.Add((now.Ticks / TimeSpan.TicksPerSecond, to));
            }
        };
        sim.Run(TimeSpan.FromSeconds(11) + TimeSpan.FromMilliseconds(5));

        var rounds = pings.GroupBy(p => p.Round).ToList();
        Assert.Equal(11, rounds.Count);
        Assert.All(rounds, round => Assert.Equal(sim.Nodes.Keys.Order(), round.Select(p => p.To).Order()));

        // Over M − 1 rounds each member probes every other one.
        var byProber = new Dictionary<string, HashSet<string>>();
        sim.Sent = (_, from, to, packet) =>
        {
            if (packet.ProbeCase == Packet.ProbeOneofCase.Ping)
            {
                (byProber.TryGetValue(from, out var set) ? set : byProber[from] = []).Add(to);
            }
        };
        sim.Run(TimeSpan.FromSeconds(11));
        Assert.All(byProber.Values, targets => Assert.Equal(11, targets.Count));
    }

    [Fact]
    public void A_query_reaches_every_member_and_each_answer_counts_once()
    {
        var sim = new GossipSimulation(20, seed: 22);
        sim.Run(TimeSpan.FromSeconds(5));
        var origin = sim.Nodes["n4"];
        var id = origin.SendQuery("ping-all", ByteString.CopyFromUtf8("hello"));
        var answers = new List<QueryAnswer>();
        var asked = new Dictionary<string, int>();
        Assert.NotNull(sim.RunUntil(
            () =>
            {
                foreach (var (name, node) in sim.Nodes)
                {
                    foreach (var query in node.TakeQueries())
                    {
                        asked[name] = asked.GetValueOrDefault(name) + 1;
                        Assert.Equal("hello", query.Payload.ToStringUtf8());
                        node.Respond(query, ByteString.CopyFromUtf8(name));
                        sim.Flush(node);
                    }
                }

                answers.AddRange(origin.TakeAnswers());
                return answers.Count == 20;
            },
            origin.QueryTimeout));

        Assert.All(answers, a => Assert.Equal(id, a.Lamport));
        Assert.Equal(sim.Nodes.Keys.Order(), answers.Select(a => a.From).Order());
        Assert.Equal(sim.Nodes.Keys.Order(), answers.Select(a => a.Payload.ToStringUtf8()).Order());

        // A replayed answer, and any answer after the deadline, is not counted.
        var replay = new Packet { From = "n9", FromAddress = sim.Nodes["n9"].Find("n9")!.Address, QueryResponse = new QueryResponse { Lamport = id, Payload = ByteString.CopyFromUtf8("again") } };
        origin.Receive(replay, sim.Now);
        Assert.Empty(origin.TakeAnswers());
        sim.Run(origin.QueryTimeout);
        var refused = origin.Refused;
        origin.Receive(replay.Clone(), sim.Now);
        Assert.Empty(origin.TakeAnswers());
        Assert.Equal(refused + 1, origin.Refused);
        Assert.All(asked.Values, count => Assert.Equal(1, count));
    }

    [Fact]
    public void A_replayed_event_is_never_delivered_twice_and_an_old_one_is_refused()
    {
        var node = new GossipNode(new GossipOptions { Name = "a", Address = "10.0.0.1:8301" }, new Random(1), TimeSpan.Zero);
        Packet EventPacket(ulong lamport) => new()
        {
            From = "b",
            FromAddress = "10.0.0.2:8301",
            Broadcasts = { new Broadcast { Event = new UserEvent { Name = "rotate", Origin = "b", Lamport = lamport, Payload = ByteString.CopyFromUtf8($"{lamport}") } } },
        };
        var captured = EventPacket(1);
        node.Receive(captured, TimeSpan.Zero);
        node.Receive(captured.Clone(), TimeSpan.Zero);
        Assert.Single(node.TakeUserEvents());

        for (ulong lamport = 2; lamport <= GossipNode.EventWindow + 10; lamport++)
        {
            node.Receive(EventPacket(lamport), TimeSpan.Zero);
        }

        Assert.Equal((int)GossipNode.EventWindow + 9, node.TakeUserEvents().Count);
        node.Receive(captured.Clone(), TimeSpan.Zero);
        Assert.Empty(node.TakeUserEvents());
        Assert.Equal(1, node.StaleEvents);
    }
}
