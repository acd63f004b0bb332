using Cluster.Actors.Formation;
using AkkaAddress = Akka.Actor.Address;

namespace Cluster.Tests.Actors;

/// <summary>The formation decision as a table: which seeds, whom to down, what the directory says.</summary>
public sealed class FormationPlannerTests
{
    private static AkkaAddress At(int port) => new("akka.tcp", "mesh", "127.0.0.1", port);

    private static PoolMember Alive(string name, int port) => new(name, PoolMemberState.Alive, At(port));

    [Fact]
    public void Seeds_wait_until_the_pool_has_settled_and_are_ordered_the_same_on_every_node()
    {
        PoolMember[] pool = [Alive("c", 3), Alive("a", 1), Alive("b", 2), new("no-actors", PoolMemberState.Alive, null)];
        Assert.Null(FormationPlanner.Plan(At(2), pool, [], joinRequested: false, poolSettled: false).JoinSeeds);
        Assert.Null(FormationPlanner.Plan(At(2), pool, [], joinRequested: true, poolSettled: true).JoinSeeds);

        var fromB = FormationPlanner.Plan(At(2), pool, [], joinRequested: false, poolSettled: true).JoinSeeds;
        var fromC = FormationPlanner.Plan(At(3), pool, [], joinRequested: false, poolSettled: true).JoinSeeds;
        Assert.Equal([At(1), At(2), At(3)], fromB!.Value.ToArray());
        Assert.Equal(fromB.Value.ToArray(), fromC!.Value.ToArray());
    }

    [Fact]
    public void A_node_alone_seeds_itself()
    {
        var plan = FormationPlanner.Plan(At(5), [Alive("me", 5)], [], joinRequested: false, poolSettled: true);
        Assert.Equal([At(5)], plan.JoinSeeds!.Value.ToArray());
    }

    [Fact]
    public void Only_members_gossip_declares_failed_or_left_are_downed()
    {
        PoolMember[] pool =
        [
            Alive("a", 1),
            new("b", PoolMemberState.Failed, At(2)),
            new("c", PoolMemberState.Left, At(3)),
            Alive("d", 4),
        ];

        // At(9): an Akka member gossip has not told this node about yet: left alone.
        var plan = FormationPlanner.Plan(At(1), pool, [At(1), At(2), At(3), At(4), At(9)], joinRequested: true, poolSettled: true);
        Assert.Equal([At(2), At(3)], plan.Down.ToArray());
        Assert.Equal(["a", "d"], plan.Directory.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_member_restarted_on_a_new_port_has_its_old_address_downed_and_its_name_points_at_the_new_one()
    {
        // Gossip keeps one entry per name: the restarted member's, with its new tag, possibly
        // without ever having seen the old one fail. The last plan's directory remembers it.
        PoolMember[] pool = [Alive("a", 1), Alive("b", 7)];
        var previous = new Dictionary<string, AkkaAddress> { ["a"] = At(1), ["b"] = At(2) };
        var plan = FormationPlanner.Plan(At(1), pool, [At(1), At(2), At(7)], joinRequested: true, poolSettled: true, previous);
        Assert.Equal([At(2)], plan.Down.ToArray());
        Assert.Equal(At(7), plan.Directory["b"]);

        // Without that memory, an address gossip never mentioned is left alone.
        Assert.Empty(FormationPlanner.Plan(At(1), pool, [At(1), At(2), At(7)], joinRequested: true, poolSettled: true).Down);
    }

    [Fact]
    public void This_node_is_never_downed_by_its_own_planner()
    {
        var plan = FormationPlanner.Plan(At(1), [new("a", PoolMemberState.Failed, At(1))], [At(1)], joinRequested: true, poolSettled: true);
        Assert.Empty(plan.Down);
    }
}
