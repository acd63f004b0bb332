using Legacy.Actors;
using Legacy.Actors.Membership;
using Legacy.Actors.Sharding;
using Cluster.Testing.Sharding;

namespace Cluster.Tests.Actors;

/// <summary>Sharding on one node, on virtual time: routing, passivation and its buffering.</summary>
public sealed class ShardingTests : ActorTest
{
    private ActorRef Start(ShardingOptions? options = null) =>
        ClusterSharding.Start(Kit.System, options ?? TestEntity.Options(), new ClusterMembership(Kit.System));

    private static EntityCommand Command(string id, long seq, string text = "") => new() { EntityId = id, Seq = seq, Text = text };

    [Fact]
    public void Shard_ids_are_stable_across_processes_and_versions()
    {
        // Golden values: entity placement must never change under a running cluster.
        Assert.Equal(55, ShardIds.ShardOf("web-1", 100));
        Assert.Equal(ShardIds.ShardOf("web-1", 100), ShardIds.ShardOf("web-1", 100));
        Assert.InRange(ShardIds.ShardOf(new string('é', 1000), 7), 0, 6);
        var spread = Enumerable.Range(0, 10_000).Select(i => ShardIds.ShardOf("entity-" + i, 100)).GroupBy(s => s).ToList();
        Assert.Equal(100, spread.Count);
        Assert.All(spread, g => Assert.InRange(g.Count(), 50, 150));
    }

    [Fact]
    public void Messages_reach_one_entity_per_id_started_on_first_use()
    {
        var region = Start();
        var probe = Kit.CreateProbe();
        probe.Send(region, Command("a", 1));
        var first = probe.ExpectMsg<EntityReply>();
        probe.Send(region, Command("a", 2));
        var second = probe.ExpectMsg<EntityReply>();
        probe.Send(region, Command("b", 1));
        var other = probe.ExpectMsg<EntityReply>();
        Assert.Equal(first.Incarnation, second.Incarnation);
        Assert.Equal(2, second.Handled);
        Assert.NotEqual(first.Incarnation, other.Incarnation);
        Assert.Equal("b", other.EntityId);
    }

    [Fact]
    public void Entity_ids_that_are_not_valid_actor_names_still_work()
    {
        var region = Start();
        var probe = Kit.CreateProbe();
        foreach (var id in new[] { "a/b#c", new string('x', 1000), "space and ünïcode", "$dollar" })
        {
            probe.Send(region, Command(id, 1));
            Assert.Equal(id, probe.ExpectMsg<EntityReply>().EntityId);
        }
    }

    [Fact]
    public void Idle_entities_are_passivated_and_the_next_message_starts_a_new_incarnation()
    {
        var region = Start(TestEntity.Options() with { PassivateIdleAfter = TimeSpan.FromMinutes(1) });
        var probe = Kit.CreateProbe();
        probe.Send(region, Command("a", 1));
        var before = probe.ExpectMsg<EntityReply>();
        Kit.Advance(TimeSpan.FromSeconds(50));
        probe.Send(region, Command("a", 2));
        Assert.Equal(before.Incarnation, probe.ExpectMsg<EntityReply>().Incarnation);

        Kit.Advance(TimeSpan.FromMinutes(2));
        probe.Send(region, Command("a", 3));
        var after = probe.ExpectMsg<EntityReply>();
        Assert.NotEqual(before.Incarnation, after.Incarnation);
        Assert.Equal(1, after.Handled);
    }

    [Fact]
    public void Messages_sent_while_an_entity_passivates_go_to_its_next_incarnation_once_and_in_order()
    {
        var region = Start(TestEntity.Options() with { StopMessage = new TestEntity.StopAfter(TimeSpan.FromSeconds(1)) });
        var probe = Kit.CreateProbe();
        probe.Send(region, Command("a", 0, "passivate"));
        var first = probe.ExpectMsg<EntityReply>(r => r.Seq == 0);

        // The entity is stopping (it takes a virtual second): the shard must hold these.
        for (var i = 1; i <= 100; i++)
        {
            probe.Send(region, Command("a", i));
        }

        var replies = Enumerable.Range(0, 100).Select(_ => probe.ExpectMsg<EntityReply>()).ToList();
        Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), replies.Select(r => r.Seq));
        Assert.Single(replies.Select(r => r.Incarnation).Distinct());
        Assert.NotEqual(first.Incarnation, replies[0].Incarnation);

        // Every (incarnation, seq) pair is unique and each incarnation counts from 1 without gaps.
        foreach (var group in replies.GroupBy(r => r.Incarnation))
        {
            Assert.Equal(Enumerable.Range(1, group.Count()).Select(i => (long)i), group.Select(r => r.Handled));
        }

        probe.ExpectNoMsg(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void A_region_holds_messages_up_to_its_buffer_capacity_and_dead_letters_the_rest_with_the_reason()
    {
        var region = Start(TestEntity.Options() with { BufferCapacity = 2 });
        var probe = Kit.CreateProbe();
        var dead = Kit.CreateProbe();
        Kit.System.EventStream.Subscribe(dead.Ref, typeof(DeadLetter));

        // All five reach the region in one turn, before the coordinator has said where the shard lives.
        for (var i = 0; i < 5; i++)
        {
            probe.Send(region, Command("a", i));
        }

        Assert.Equal([0L, 1L], probe.ReceiveN(2).Cast<EntityReply>().Select(r => r.Seq));
        var letters = Enumerable.Range(0, 3).Select(_ => dead.ExpectMsg<DeadLetter>()).ToList();
        Assert.All(letters, l => Assert.Contains("buffer of test is full", l.Reason, StringComparison.Ordinal));
        Assert.Equal([2L, 3L, 4L], letters.Select(l => ((EntityCommand)l.Message).Seq));
    }

    [Fact]
    public void Messages_for_other_types_go_to_dead_letters()
    {
        var region = Start();
        var probe = Kit.CreateProbe();
        Kit.System.EventStream.Subscribe(probe.Ref, typeof(UnhandledMessage));
        region.Tell("not a command");
        Assert.Equal("not a command", probe.ExpectMsg<UnhandledMessage>().Message);
    }
}
