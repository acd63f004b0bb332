using System.Globalization;
using Legacy.Actors;
using Cluster.Testing.Actors;
using Cluster.Testing.Sharding;

namespace Cluster.Tests.Actors;

/// <summary>Drives entities e0..eN through a region and checks what comes back.</summary>
internal static class ShardingDriver
{
    public static EntityCommand Command(int entity, long seq) => new() { EntityId = "e" + entity, Seq = seq };

    /// <summary>
    /// Sends to every entity until each has answered once (bounded: 20 rounds of 2 s). A message
    /// may be lost while a home is being replaced (delivery is at most once), so unanswered ones
    /// are asked again; once an entity answered, its home is known.
    /// </summary>
    public static Dictionary<string, EntityReply> Reach(ActorRef region, TestProbe probe, IEnumerable<int> entities, long seq)
    {
        var replies = new Dictionary<string, EntityReply>();
        var pending = entities.ToHashSet();
        for (var attempt = 0; attempt < 20 && pending.Count > 0; attempt++)
        {
            foreach (var entity in pending)
            {
                probe.Send(region, Command(entity, seq));
            }

            try
            {
                while (pending.Count > 0)
                {
                    var reply = probe.ExpectMsg<EntityReply>(max: TimeSpan.FromSeconds(2));
                    if (reply.Seq == seq && pending.Remove(int.Parse(reply.EntityId[1..], CultureInfo.InvariantCulture)))
                    {
                        replies[reply.EntityId] = reply;
                    }
                }
            }
            catch (ProbeException)
            {
                // Some went to a home that was just lost: ask those again.
            }
        }

        Assert.Empty(pending);
        return replies;
    }

    /// <summary>One message to every entity: each answers exactly once, and nothing else arrives.</summary>
    public static List<EntityReply> AssertExactlyOnce(ActorRef region, TestProbe probe, int entities, long seq)
    {
        for (var entity = 0; entity < entities; entity++)
        {
            probe.Send(region, Command(entity, seq));
        }

        var replies = Enumerable.Range(0, entities).Select(_ => probe.ExpectMsg<EntityReply>(r => r.Seq == seq)).ToList();
        Assert.Equal(entities, replies.Select(r => r.EntityId).Distinct().Count());
        return replies;
    }

    /// <summary>Once every home is known, a burst to every entity arrives exactly once per incarnation and in order.</summary>
    public static void AssertExactlyOnceInOrder(ActorRef region, TestProbe probe, int entities, int burst, long firstSeq)
    {
        for (var seq = firstSeq; seq < firstSeq + burst; seq++)
        {
            for (var entity = 0; entity < entities; entity++)
            {
                probe.Send(region, Command(entity, seq));
            }
        }

        var replies = Enumerable.Range(0, burst * entities).Select(_ => probe.ExpectMsg<EntityReply>()).ToList();
        foreach (var byEntity in replies.GroupBy(r => r.EntityId))
        {
            Assert.Equal(Enumerable.Range(0, burst).Select(i => firstSeq + i), byEntity.Select(r => r.Seq));
            Assert.Equal(byEntity.Count(), byEntity.Select(r => (r.Incarnation, r.Handled)).Distinct().Count());
        }

        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }
}
