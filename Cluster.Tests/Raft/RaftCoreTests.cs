using Cluster.Raft.Core;
using Cluster.Raft.Wire;
using Cluster.Testing.Raft;
using Google.Protobuf;

namespace Cluster.Tests.Raft;

/// <summary>Scripted runs of the core on the simulated network: elections, replication, the safety rules of §5.</summary>
public sealed class RaftCoreTests
{
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
        Assert.Equal(["x"], sim.Disks[leader.Id].Commands);
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
        Assert.All(sim.Disks.Values, d => Assert.Equal(expected, d.Commands));
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
        Assert.All(sim.Disks.Values, d => Assert.Equal(["committed", "after"], d.Commands));
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
        Assert.Equal(["only two have me"], sim.Disks[leader.Id].Commands);

        // The leader goes; the one behind comes back. Only the up-to-date node can win (§5.4.1).
        sim.Crash(leader.Id);
        sim.Heal();
        var next = sim.ElectLeader();
        Assert.Equal(upToDate, next.Id);
        sim.Tick(5);
        Assert.Equal(["only two have me"], sim.Disks[behind].Commands);
    }

    /// <summary>
    /// Figure 7 of the Raft paper (§5.3): a new leader of term 8 meets followers missing
    /// entries (a, b, e), with extra uncommitted entries (c, d) and with both (f). The
    /// consistency check walks each follower back to where it agrees, after which every log is
    /// the leader's. Index 1 is the founding configuration (term 1, as in the figure).
    /// </summary>
    [Fact]
    public void Figure_7_the_consistency_check_makes_every_follower_log_the_leaders()
    {
        ulong[][] logs =
        [
            [1, 1, 1, 4, 4, 5, 5, 6, 6, 6], // the leader (id 1)
            [1, 1, 1, 4, 4, 5, 5, 6, 6], // (a)
            [1, 1, 1, 4], // (b)
            [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6], // (c)
            [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7], // (d)
            [1, 1, 1, 4, 4, 4, 4], // (e)
            [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], // (f)
        ];
        var sim = new RaftSimulation(7, seed: 7);
        var founding = sim.Disks[1].Entries[0];
        foreach (var (id, terms) in sim.Ids.Zip(logs))
        {
            sim.Crash(id);
            var entries = terms.Select((term, i) => i == 0 ? founding : new Entry { Index = (ulong)i + 1, Term = term, Data = ByteString.CopyFromUtf8($"{term}@{i + 1}") });
            sim.Disks[id].Overwrite(new HardState { Term = 7, Commit = 1 }, entries);
            sim.Restart(id);
        }

        var leader = sim.ElectSpecific(1);
        Assert.Equal(8UL, leader.Term); // (c) and (d) refuse it (their logs are longer or newer); a, b, e, f and itself make 5 of 7
        sim.Tick(10);

        ulong[] expected = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 8];
        Assert.All(sim.Ids, id => Assert.Equal(expected, sim.Disks[id].Log.Select(e => e.Term)));
        Assert.All(sim.Ids, id => Assert.Equal(11UL, sim.Nodes[id].Committed));
        Assert.DoesNotContain(sim.Disks.Values.SelectMany(d => d.Applied), e => e.Term is 2 or 3 or 7); // the extra entries never applied
    }

    /// <summary>§5.1 and §5.2: one vote per term, and a message from an older term is refused with the current term.</summary>
    [Fact]
    public void A_node_votes_once_per_term_and_answers_stale_terms_with_its_own()
    {
        var node = new RaftNode(new RaftOptions { Id = 1, PreVote = false, CheckQuorum = false }, [1, 2, 3], new Random(1));
        node.Step(new Message { Type = MessageType.Vote, From = 2, To = 1, Term = 5, Index = 1, LogTerm = 1 });
        node.Step(new Message { Type = MessageType.Vote, From = 3, To = 1, Term = 5, Index = 1, LogTerm = 1 });
        node.Step(new Message { Type = MessageType.Append, From = 3, To = 1, Term = 4, Index = 1, LogTerm = 1 });
        var messages = node.GetReady().Messages;

        Assert.Equal(5UL, node.Term);
        Assert.Equal(2UL, node.Vote);
        Assert.False(messages.Single(m => m.To == 2 && m.Type == MessageType.VoteResponse).Reject);
        Assert.True(messages.Single(m => m.To == 3 && m.Type == MessageType.VoteResponse).Reject);
        var stale = messages.Single(m => m.To == 3 && m.Type == MessageType.AppendResponse);
        Assert.Equal(5UL, stale.Term); // the deposed leader learns the newer term
    }

    /// <summary>
    /// Figure 8 of the Raft paper: an entry from an earlier term that reaches a majority is still
    /// not committed by counting replicas, because a later leader may overwrite it. Only an entry
    /// of the leader's own term commits it (§5.4.2).
    /// </summary>
    [Fact]
    public void Figure_8_an_old_term_entry_on_a_majority_is_not_committed_by_counting()
    {
        var sim = new RaftSimulation(5, seed: 8, new RaftOptions { Id = 1, MaxEntriesPerMessage = 1 });

        // (a) S1 leads and gets "a" (index 3, after the founding configuration and S1's empty entry) onto S2 only.
        sim.ElectSpecific(1);
        sim.Tick(2);
        sim.Cut(1, 3);
        sim.Cut(1, 4);
        sim.Cut(1, 5);
        sim.Propose(1, "a");
        sim.Pump();
        Assert.Equal("a", sim.Disks[2].Entries[2].Data.ToStringUtf8());

        // (b) S1 crashes; S5 wins with S3 and S4; its own entry at index 3 stays with it.
        sim.Crash(1);
        sim.Heal();
        sim.Deliver = m => !(m.From == 5 && m.Type == MessageType.Append);
        var s5 = sim.ElectSpecific(5);
        var s5Term = s5.Term;
        Assert.Equal(s5Term, sim.Disks[5].Entries[2].Term);

        // (c) S5 crashes; S1 returns and wins. It brings the others up to "a", so "a" is on a
        //     majority, but its own-term entry (index 4) does not get out.
        sim.Crash(5);
        sim.Restart(1);
        sim.Deliver = m =>
        {
            if (m.From == 1 && m.Type == MessageType.Append)
            {
                // The new term's entries are lost on the way; the rest of each message arrives.
                foreach (var lost in m.Entries.Where(e => e.Term > s5Term).ToList())
                {
                    m.Entries.Remove(lost);
                }
            }

            return true;
        };
        var s1 = sim.ElectSpecific(1);
        Assert.True(s1.Term > s5Term);
        sim.Tick(5);
        Assert.True(sim.Disks.Values.Count(d => d.Entries.Count >= 3 && d.Entries[2].Data.ToStringUtf8() == "a") >= 3);
        Assert.Equal(2UL, s1.Committed); // not 3: "a" is from an earlier term

        // (d) S1 crashes; S5 returns and wins (its index-3 entry has the higher term) and
        //     overwrites "a" everywhere. Safe only because nobody applied it.
        sim.Crash(1);
        sim.Restart(5);
        sim.Deliver = null;
        sim.ElectSpecific(5);
        sim.Tick(10);
        Assert.DoesNotContain(sim.Disks.Values.SelectMany(d => d.Applied), e => e.Data.ToStringUtf8() == "a");
        Assert.All(sim.Ids.Where(id => id != 1), id => Assert.Equal(s5Term, sim.Disks[id].Entries[2].Term));
    }

    [Fact]
    public void Leadership_moves_to_a_caught_up_follower_at_once()
    {
        var sim = new RaftSimulation(3, seed: 9);
        var old = sim.ElectLeader();
        sim.Propose(old.Id, "before");
        sim.Tick(2);
        var target = sim.Ids.First(id => id != old.Id);
        Assert.True(old.TransferLeadership(target));
        sim.Pump();
        Assert.Equal(target, sim.Leader!.Id);
        Assert.Equal(old.Term, sim.Leader!.Term);
        Assert.Equal(RaftRole.Follower, old.Role);
        sim.Propose(target, "after");
        sim.Tick(2);
        Assert.All(sim.Disks.Values, d => Assert.Equal(["before", "after"], d.Commands));
    }

    [Fact]
    public void Leadership_transfer_to_a_lagging_follower_waits_for_it_to_catch_up()
    {
        var sim = new RaftSimulation(3, seed: 10);
        var old = sim.ElectLeader();
        var target = sim.Ids.First(id => id != old.Id);
        sim.Isolate(target);
        for (var i = 0; i < 5; i++)
        {
            sim.Propose(old.Id, $"c{i}");
        }

        sim.Tick(2);
        sim.Heal();
        Assert.True(old.TransferLeadership(target));
        Assert.False(sim.Propose(old.Id, "during")); // no new entries while handing over
        sim.Tick(3);
        Assert.Equal(target, sim.Leader!.Id);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"c{i}"), sim.Disks[target].Commands);
    }

    [Fact]
    public void A_transfer_that_cannot_finish_is_abandoned_and_the_leader_carries_on()
    {
        var sim = new RaftSimulation(3, seed: 11);
        var leader = sim.ElectLeader();
        var target = sim.Ids.First(id => id != leader.Id);
        sim.Isolate(target);
        sim.Propose(leader.Id, "x");
        sim.Tick(2);
        Assert.True(leader.TransferLeadership(target));
        Assert.False(sim.Propose(leader.Id, "refused"));
        sim.Tick(12); // more than an election timeout
        Assert.Equal(RaftRole.Leader, leader.Role);
        Assert.Equal(0UL, leader.Transferee);
        Assert.True(sim.Propose(leader.Id, "accepted again"));
        Assert.False(leader.TransferLeadership(leader.Id));
    }

    [Fact]
    public void A_read_index_is_released_after_a_quorum_confirms_the_leader_on_leader_and_follower()
    {
        var sim = new RaftSimulation(3, seed: 12);
        var leader = sim.ElectLeader();
        sim.Propose(leader.Id, "w1");
        sim.Tick(2);
        var commit = leader.Committed;

        leader.ReadIndex(Google.Protobuf.ByteString.CopyFromUtf8("on-leader"));
        var follower = sim.Nodes[sim.Ids.First(id => id != leader.Id)];
        follower.ReadIndex(Google.Protobuf.ByteString.CopyFromUtf8("on-follower"));
        sim.Pump();

        var reads = sim.Reads.ToDictionary(r => r.Read.Context.ToStringUtf8(), r => (r.Node, r.Read.Index));
        Assert.Equal((leader.Id, commit), reads["on-leader"]);
        Assert.Equal((follower.Id, commit), reads["on-follower"]);
    }

    [Fact]
    public void A_leader_cut_off_from_the_quorum_never_releases_a_read()
    {
        var sim = new RaftSimulation(3, seed: 13);
        var leader = sim.ElectLeader();
        sim.Isolate(leader.Id);
        leader.ReadIndex(Google.Protobuf.ByteString.CopyFromUtf8("stale?"));
        sim.Tick(30); // it steps down meanwhile; the others elect a new leader and may commit more
        Assert.DoesNotContain(sim.Reads, r => r.Read.Context.ToStringUtf8() == "stale?");
    }

    [Fact]
    public void A_single_node_answers_reads_at_once()
    {
        var sim = new RaftSimulation(1, seed: 14);
        var leader = sim.ElectLeader();
        leader.ReadIndex(Google.Protobuf.ByteString.CopyFromUtf8("solo"));
        sim.Pump();
        Assert.Equal(leader.Committed, Assert.Single(sim.Reads).Read.Index);
    }

    [Fact]
    public void A_batch_of_proposals_goes_out_as_one_append_per_follower()
    {
        var sim = new RaftSimulation(3, seed: 15);
        var leader = sim.ElectLeader();
        sim.Tick(2);
        var appends = 0;
        sim.Deliver = m =>
        {
            appends += m.Type == MessageType.Append && m.Entries.Count > 0 ? 1 : 0;
            return true;
        };
        Assert.True(leader.Propose([.. Enumerable.Range(0, 100).Select(i => Google.Protobuf.ByteString.CopyFromUtf8($"b{i}"))]));
        sim.Pump();
        Assert.Equal(2, appends);
        sim.Deliver = null;
        sim.Tick(2);
        Assert.All(sim.Disks.Values, d => Assert.Equal(100, d.Commands.Count));
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
        Assert.Equal(["a", "b"], sim.Disks[follower].Commands);
    }
}
