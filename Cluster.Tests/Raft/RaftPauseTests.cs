using Cluster.Raft.Core;
using Cluster.Testing.Raft;

namespace Cluster.Tests.Raft;

/// <summary>
/// Pauses (SIGSTOP, a long GC, a VM stall): a node whose clock and inbox stop while the others run,
/// then resume with a backlog. A leader's read lease is measured in its ticks, so a driver must
/// catch the ticks up to real time before anything else (<see cref="RaftNode.TickTo"/>); one that
/// only ticks on its timer served stale default reads after a pause (found by a history check
/// against three server processes, issue 15).
/// </summary>
public sealed class RaftPauseTests
{
    private static readonly int ElectionTicks = new RaftOptions { Id = 1 }.ElectionTicks;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_leader_resumed_after_its_lease_ran_out_never_answers_a_lease_read_from_it(bool catchUp)
    {
        var sim = new RaftSimulation(3, seed: 41) { CatchUpOnResume = catchUp };
        var old = sim.ElectLeader();
        sim.Propose(old.Id, "before");
        sim.Tick(2);
        Assert.True(old.HasLease);

        // Frozen; the others elect a leader and commit. Nothing of the new term reaches the old
        // leader before it looks at the read its client sent while it was frozen.
        sim.Pause(old.Id);
        var next = sim.ElectLeader();
        Assert.NotEqual(old.Id, next.Id);
        sim.Cut(next.Id, old.Id);
        sim.Propose(next.Id, "after");
        sim.Tick(2);
        var floor = next.Committed;
        sim.Read(old.Id, "after-resume", ReadMode.Lease);
        sim.Resume(old.Id);
        sim.Tick(ElectionTicks);

        var stale = sim.Reads.Where(r => r.Read.Context.ToStringUtf8() == "after-resume" && r.Read.Index < floor).ToList();
        if (catchUp)
        {
            Assert.Empty(stale); // its ticks caught up first: the lease had expired, so it asked a quorum and learned it was deposed
            Assert.NotEqual(RaftRole.Leader, old.Role);
        }
        else
        {
            // The model of the old driver: one tick after the pause, so the lease still looked fresh.
            Assert.Equal(old.Id, Assert.Single(stale).Node);
        }
    }

    [Fact]
    public void A_follower_resumed_after_a_long_pause_campaigns_at_once_instead_of_trusting_an_old_leader()
    {
        var sim = new RaftSimulation(3, seed: 43);
        var leader = sim.ElectLeader();
        var follower = sim.Nodes[sim.Ids.First(id => id != leader.Id)];
        sim.Pause(follower.Id);
        sim.Isolate(follower.Id);
        sim.Tick(10 * ElectionTicks);
        var ticksBefore = follower.Ticks;
        sim.Resume(follower.Id);

        Assert.Equal(ticksBefore + (10 * ElectionTicks), follower.Ticks); // its clock shows real time again
        Assert.Equal(0UL, follower.Leader); // and its election timer ran out: it forgot the leader and asked for (pre-)votes
    }

    [Fact]
    public void A_long_stall_is_caught_up_in_bounded_work()
    {
        var sim = new RaftSimulation(3, seed: 47);
        var leader = sim.ElectLeader();
        sim.Pause(leader.Id);
        sim.Isolate(leader.Id); // so that no backlog builds up: what it sends on resume comes from its timers alone
        sim.Tick(20_000);
        sim.Heal();
        var sent = 0;
        sim.Deliver = m =>
        {
            sent += m.From == leader.Id ? 1 : 0;
            return true;
        };
        sim.Resume(leader.Id);

        Assert.NotEqual(RaftRole.Leader, leader.Role); // two check-quorum rounds failed while it caught up
        Assert.True(sent < 10 * ElectionTicks, $"{sent} messages after a stall of 20,000 ticks"); // not one heartbeat per missed tick
    }

    [Fact]
    public void A_paused_node_keeps_what_was_sent_to_it_and_catches_up_on_resume()
    {
        var sim = new RaftSimulation(3, seed: 45);
        var leader = sim.ElectLeader();
        var follower = sim.Ids.First(id => id != leader.Id);
        sim.Pause(follower);
        for (var i = 0; i < 20; i++)
        {
            sim.Propose(leader.Id, $"while-paused-{i}");
        }

        sim.Tick(3);
        Assert.Empty(sim.Disks[follower].Commands); // frozen: nothing applied
        sim.Resume(follower);
        sim.Tick(3);
        Assert.Equal(sim.Disks[leader.Id].Commands, sim.Disks[follower].Commands);
    }

    [Fact]
    public void A_restarted_follower_does_not_vote_while_the_lease_it_granted_may_still_hold()
    {
        // The leader's lease rests on a quorum that answered its heartbeats and so refuses votes
        // for an election timeout. A follower that answered, crashed and came straight back
        // remembers no leader: unless it also holds its vote for an election timeout after it
        // starts, a candidate cut off from the leader could win with it while the lease runs.
        for (var seed = 0; seed < 50; seed++)
        {
            var sim = new RaftSimulation(3, seed);
            var leader = sim.ElectLeader();
            sim.Tick(2);
            var (granter, candidate) = (sim.Ids.First(id => id != leader.Id), sim.Ids.Last(id => id != leader.Id));
            sim.Cut(leader.Id, candidate);
            sim.Tick(2 * ElectionTicks); // the candidate campaigns over and over; the granter still hears the leader

            sim.Crash(granter);
            sim.Restart(granter);
            sim.Cut(leader.Id, granter);
            sim.Tick(2 * ElectionTicks); // throws RaftViolationException if the candidate leads while the old lease holds
            Assert.NotEqual(RaftRole.Leader, leader.Role);
        }
    }
}
