using Cluster.Raft.Core;

namespace Cluster.Tests.Raft;

/// <summary>Scripted runs of the core on the simulated network: elections, replication, the safety rules of §5.</summary>
public sealed class RaftCoreTests
{
    private static List<string> Commands(SimDisk disk) =>
        [.. disk.Applied.Where(e => !e.Data.IsEmpty).Select(e => e.Data.ToStringUtf8())];

    [Fact]
    public void Three_nodes_elect_exactly_one_leader_that_all_follow()
    {
        var sim = new RaftSimulation(3, seed: 1);
        var leader = sim.ElectLeader();
        Assert.All(sim.Nodes.Values, n => Assert.Equal(leader.Id, n.Leader));
        Assert.All(sim.Nodes.Values, n => Assert.Equal(leader.Term, n.Term));
        Assert.Single(sim.Nodes.Values, n => n.Role == RaftRole.Leader);
    }

    [Fact]
    public void A_single_node_leads_itself_and_commits_alone()
    {
        var sim = new RaftSimulation(1, seed: 1);
        var leader = sim.ElectLeader();
        Assert.True(sim.Propose(leader.Id, "x"));
        sim.Pump();
        Assert.Equal(["x"], Commands(sim.Disks[leader.Id]));
    }

    [Fact]
    public void Proposals_commit_and_apply_in_the_same_order_everywhere()
    {
        var sim = new RaftSimulation(5, seed: 2);
        var leader = sim.ElectLeader();
        for (var i = 0; i < 50; i++)
        {
            Assert.True(sim.Propose(leader.Id, $"cmd-{i}"));
        }

        sim.Tick(3);
        var expected = Enumerable.Range(0, 50).Select(i => $"cmd-{i}").ToList();
        Assert.All(sim.Disks.Values, d => Assert.Equal(expected, Commands(d)));
        Assert.False(sim.Propose(sim.Ids.First(id => id != leader.Id), "not a leader"));
    }

    [Fact]
    public void An_isolated_leader_steps_down_and_its_uncommitted_entries_are_replaced()
    {
        var sim = new RaftSimulation(3, seed: 3);
        var old = sim.ElectLeader();
        sim.Propose(old.Id, "committed");
        sim.Tick(2);

        sim.Isolate(old.Id);
        sim.Propose(old.Id, "lost"); // cannot reach a quorum
        sim.Tick(30);
        Assert.NotEqual(RaftRole.Leader, old.Role); // check-quorum: it noticed it lost the majority
        var next = sim.Leader!;
        Assert.NotEqual(old.Id, next.Id);
        Assert.True(next.Term > old.Term || old.Role != RaftRole.Leader);
        sim.Propose(next.Id, "after");
        sim.Tick(2);

        sim.Heal();
        sim.Tick(30);
        Assert.All(sim.Disks.Values, d => Assert.Equal(["committed", "after"], Commands(d)));
        Assert.DoesNotContain(sim.Disks[old.Id].Entries, e => e.Data.ToStringUtf8() == "lost");
    }

    [Fact]
    public void With_pre_vote_a_node_that_was_cut_off_does_not_disrupt_the_leader_when_it_returns()
    {
        var sim = new RaftSimulation(3, seed: 4);
        var leader = sim.ElectLeader();
        var term = leader.Term;
        var loner = sim.Ids.First(id => id != leader.Id);
        sim.Isolate(loner);
        sim.Tick(100);
        Assert.Equal(term, sim.Nodes[loner].Term); // pre-votes failed, so it never raised its term
        sim.Heal();
        sim.Tick(20);
        Assert.Equal(leader.Id, sim.Leader!.Id);
        Assert.Equal(term, sim.Leader!.Term);
    }

    [Fact]
    public void A_node_missing_committed_entries_cannot_become_leader()
    {
        var sim = new RaftSimulation(3, seed: 5);
        var leader = sim.ElectLeader();
        var behind = sim.Ids.First(id => id != leader.Id);
        var upToDate = sim.Ids.First(id => id != leader.Id && id != behind);
        sim.Isolate(behind);
        sim.Propose(leader.Id, "only two have me");
        sim.Tick(2);
        Assert.Equal(["only two have me"], Commands(sim.Disks[leader.Id]));

        // The leader goes; the one behind comes back. Only the up-to-date node can win (§5.4.1).
        sim.Crash(leader.Id);
        sim.Heal();
        var next = sim.ElectLeader();
        Assert.Equal(upToDate, next.Id);
        sim.Tick(5);
        Assert.Equal(["only two have me"], Commands(sim.Disks[behind]));
    }

    [Fact]
    public void A_restarted_node_recovers_from_its_disk_and_catches_up()
    {
        var sim = new RaftSimulation(3, seed: 6);
        var leader = sim.ElectLeader();
        sim.Propose(leader.Id, "a");
        sim.Tick(2);
        var follower = sim.Ids.First(id => id != leader.Id);
        sim.Crash(follower);
        sim.Propose(leader.Id, "b");
        sim.Tick(2);
        sim.Restart(follower);
        sim.Tick(10);
        Assert.Equal(["a", "b"], Commands(sim.Disks[follower]));
    }
}
