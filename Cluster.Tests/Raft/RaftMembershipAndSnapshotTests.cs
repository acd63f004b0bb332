using Cluster.Raft.Core;
using Cluster.Raft.Wire;
using Cluster.Testing.Raft;
using Google.Protobuf;

namespace Cluster.Tests.Raft;

/// <summary>Scripted runs of membership changes (thesis §4.1), snapshots with InstallSnapshot, and lease reads.</summary>
public sealed class RaftMembershipAndSnapshotTests
{
    private static ConfChange Change(ConfChangeType type, ulong node) => new() { Type = type, Node = node, Address = $"10.0.0.{node}:8300" };

    [Fact]
    public void A_new_server_joins_as_a_non_voter_catches_up_and_is_promoted()
    {
        var sim = new RaftSimulation(3, seed: 21, spares: 1);
        var leader = sim.ElectLeader();
        sim.Propose(leader.Id, "before");
        sim.Tick(2);

        Assert.Equal(ConfChangeResult.Accepted, leader.ProposeConfChange(Change(ConfChangeType.AddNonVoter, 4)));
        Assert.Equal(ConfChangeResult.Pending, leader.ProposeConfChange(Change(ConfChangeType.AddVoter, 4))); // one change at a time
        sim.Tick(3);
        Assert.Equal(["before"], sim.Disks[4].Commands);
        Assert.Equal(sim.Nodes[4].LastIndex, leader.Matches()[4]);
        Assert.Equal([4UL], sim.Nodes[4].Configuration.NonVoters);
        Assert.Equal("10.0.0.4:8300", sim.Nodes[4].Configuration.Addresses[4]);

        Assert.Equal(ConfChangeResult.Accepted, leader.ProposeConfChange(Change(ConfChangeType.AddVoter, 4)));
        sim.Tick(3);
        Assert.All(sim.Nodes.Values, n => Assert.Equal([1UL, 2, 3, 4], n.Configuration.Voters));

        // Four voters: a quorum is three, so two nodes down stops commits until one returns.
        var others = sim.Ids.Where(id => id != leader.Id).ToList();
        sim.Crash(others[0]);
        sim.Crash(others[1]);
        sim.Propose(leader.Id, "needs three");
        sim.Tick(2);
        Assert.DoesNotContain("needs three", sim.Disks[leader.Id].Commands);
        sim.Restart(others[0]);
        sim.Tick(3);
        Assert.Contains("needs three", sim.Disks[sim.Leader!.Id].Commands);
    }

    [Fact]
    public void A_non_voter_never_campaigns_and_does_not_count_toward_commits()
    {
        var sim = new RaftSimulation(3, seed: 22, spares: 1);
        var leader = sim.ElectLeader();
        leader.ProposeConfChange(Change(ConfChangeType.AddNonVoter, 4));
        sim.Tick(3);
        var voters = sim.Ids.Where(id => id is not 4 && id != leader.Id).ToList();
        sim.Crash(voters[0]);
        sim.Crash(voters[1]);
        sim.Propose(leader.Id, "only the leader and a non-voter");
        sim.Tick(3);
        Assert.DoesNotContain("only the leader and a non-voter", sim.Disks[leader.Id].Commands);

        sim.Crash(leader.Id);
        sim.Tick(100);
        Assert.NotEqual(RaftRole.Leader, sim.Nodes[4].Role);
        Assert.NotEqual(RaftRole.Candidate, sim.Nodes[4].Role);
    }

    [Fact]
    public void Invalid_changes_are_refused_and_change_nothing()
    {
        var sim = new RaftSimulation(1, seed: 23);
        var leader = sim.ElectLeader();
        sim.Tick();
        Assert.Equal(ConfChangeResult.Invalid, leader.ProposeConfChange(Change(ConfChangeType.RemoveServer, 1))); // the last voter
        Assert.Equal(ConfChangeResult.Invalid, leader.ProposeConfChange(Change(ConfChangeType.AddVoter, 1)));
        Assert.Equal(ConfChangeResult.Invalid, leader.ProposeConfChange(Change(ConfChangeType.RemoveServer, 9)));
        Assert.Equal(ConfChangeResult.Invalid, leader.ProposeConfChange(new ConfChange { Type = ConfChangeType.AddVoter }));
        Assert.Equal(ConfChangeResult.Invalid, leader.ProposeConfChange(new ConfChange { Type = (ConfChangeType)77, Node = 5 }));
        Assert.Equal([1UL], leader.Configuration.Voters);
        Assert.Equal(ConfChangeResult.NotLeader, new RaftSimulation(3, seed: 1).Nodes[1].ProposeConfChange(Change(ConfChangeType.AddVoter, 4)));
    }

    [Fact]
    public void A_leader_that_removes_itself_steps_down_once_the_change_commits_and_the_rest_go_on()
    {
        var sim = new RaftSimulation(3, seed: 24);
        var leader = sim.ElectLeader();
        sim.Tick(2);
        Assert.Equal(ConfChangeResult.Accepted, leader.ProposeConfChange(Change(ConfChangeType.RemoveServer, leader.Id)));
        sim.Tick(3);
        Assert.NotEqual(RaftRole.Leader, leader.Role);
        Assert.DoesNotContain(leader.Id, sim.Nodes[sim.Ids.First(id => id != leader.Id)].Configuration.Voters);

        var next = sim.ElectLeader();
        Assert.NotEqual(leader.Id, next.Id);
        Assert.True(sim.Propose(next.Id, "after"));
        sim.Tick(3);
        Assert.All(sim.Ids.Where(id => id != leader.Id), id => Assert.Equal(["after"], sim.Disks[id].Commands));
        Assert.Equal(2, next.Configuration.Voters.Count);
    }

    [Fact]
    public void A_follower_behind_the_compacted_log_gets_the_snapshot_then_the_rest()
    {
        var sim = new RaftSimulation(3, seed: 25);
        var leader = sim.ElectLeader();
        var lagging = sim.Ids.First(id => id != leader.Id);
        sim.Crash(lagging);
        for (var i = 0; i < 20; i++)
        {
            sim.Propose(leader.Id, $"c{i}");
        }

        sim.Tick(2);
        Assert.True(sim.Compact(leader.Id));
        sim.Propose(leader.Id, "after the snapshot");
        sim.Tick(2);
        Assert.True(leader.Snapshot.Index > 20);

        sim.Restart(lagging);
        sim.Tick(5);
        Assert.Equal(1, sim.SnapshotsSent);
        Assert.Equal(leader.Snapshot.Index, sim.Disks[lagging].Snapshot.Index);
        Assert.Equal([.. Enumerable.Range(0, 20).Select(i => $"c{i}"), "after the snapshot"], sim.Disks[lagging].Commands);

        // It restarts from its own snapshot too.
        sim.Crash(lagging);
        sim.Restart(lagging);
        sim.Tick(3);
        Assert.Equal(sim.Disks[leader.Id].Commands, sim.Disks[lagging].Commands);
    }

    [Fact]
    public void A_lost_snapshot_is_sent_again_and_its_configuration_comes_with_it()
    {
        var sim = new RaftSimulation(3, seed: 26, spares: 1);
        var leader = sim.ElectLeader();
        for (var i = 0; i < 5; i++)
        {
            sim.Propose(leader.Id, $"c{i}");
        }

        sim.Tick(2);
        sim.Compact(leader.Id);
        var dropped = 0;
        sim.Deliver = m => m.Type != MessageType.Snapshot || dropped++ > 0; // the first snapshot is lost
        leader.ProposeConfChange(Change(ConfChangeType.AddNonVoter, 4));
        sim.Tick(5);
        Assert.Equal(2, sim.SnapshotsSent);
        Assert.Equal(["c0", "c1", "c2", "c3", "c4"], sim.Disks[4].Commands);
        Assert.Equal([4UL], sim.Nodes[4].Configuration.NonVoters);
        Assert.Equal([1UL, 2, 3], sim.Nodes[4].Configuration.Voters);
    }

    [Fact]
    public void Compaction_keeps_only_what_is_applied_and_persisted()
    {
        var sim = new RaftSimulation(1, seed: 27);
        var leader = sim.ElectLeader();
        Assert.Throws<ArgumentOutOfRangeException>(() => leader.Compact(leader.LastIndex + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => leader.Compact(0));
        sim.Propose(leader.Id, "x");
        sim.Tick();
        var meta = leader.Compact(leader.Applied);
        Assert.Equal(leader.Applied, meta.Index);
        Assert.Equal(leader.Term, meta.Term);
        Assert.Equal([1UL], meta.Conf.Voters);
        Assert.Throws<ArgumentOutOfRangeException>(() => leader.Compact(meta.Index));
    }

    [Fact]
    public void A_lease_read_is_answered_at_once_and_only_while_a_quorum_answered_recently()
    {
        var sim = new RaftSimulation(3, seed: 28);
        var leader = sim.ElectLeader();
        sim.Tick(3);
        Assert.True(leader.HasLease);

        var sent = 0;
        sim.Deliver = m => { sent++; return true; };
        leader.ReadIndex(ByteString.CopyFromUtf8("lease"), ReadMode.Lease);
        sim.Pump();
        Assert.Equal(0, sent); // no round trip
        Assert.Equal(("lease", leader.Committed), (sim.Reads[^1].Read.Context.ToStringUtf8(), sim.Reads[^1].Read.Index));

        // Cut off: the lease runs out before the others may elect anyone, then reads wait for a quorum that never answers.
        sim.Deliver = null;
        sim.Isolate(leader.Id);
        var ticks = 0;
        while (leader.HasLease)
        {
            sim.Tick();
            ticks++;
        }

        Assert.True(ticks < new RaftOptions { Id = 1 }.ElectionTicks);
        var before = sim.Reads.Count;
        leader.ReadIndex(ByteString.CopyFromUtf8("stale?"), ReadMode.Lease);
        sim.Tick();
        Assert.Equal(before, sim.Reads.Count);
    }

    [Fact]
    public void A_leader_that_handed_over_leadership_reads_through_a_quorum_again()
    {
        var sim = new RaftSimulation(3, seed: 29);
        var leader = sim.ElectLeader();
        sim.Tick(3);
        var target = sim.Ids.First(id => id != leader.Id);
        sim.Deliver = m => m.Type != MessageType.TimeoutNow; // the hand-over message is lost...
        Assert.True(leader.TransferLeadership(target));
        sim.Pump();
        Assert.False(leader.HasLease); // ...but it might not have been, so the lease is gone for this term
        sim.Tick(new RaftOptions { Id = 1 }.ElectionTicks);
        Assert.Equal(RaftRole.Leader, leader.Role);
        Assert.False(leader.HasLease);
    }
}
