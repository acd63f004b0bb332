using Cluster.Raft.Core;

namespace Cluster.Tests.Raft;

/// <summary>
/// Seeded chaos on the simulated network — message loss, partitions, crashes and restarts,
/// proposals throughout — then heal and check Raft's safety properties and liveness. A failing
/// seed is named in the assertion and replays exactly.
/// </summary>
public sealed class RaftSimulationTests
{
    public static TheoryData<int, int> Runs()
    {
        var data = new TheoryData<int, int>();
        foreach (var nodes in new[] { 3, 5 })
        {
            for (var batch = 0; batch < 10; batch++)
            {
                data.Add(nodes, batch);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public void Safety_and_liveness_hold_under_loss_partitions_and_crashes(int nodes, int batch)
    {
        const int SeedsPerBatch = 10;
        for (var seed = batch * SeedsPerBatch; seed < (batch + 1) * SeedsPerBatch; seed++)
        {
            Run(nodes, seed);
        }
    }

    internal static void Run(int nodes, int seed)
    {
        var sim = new RaftSimulation(nodes, seed) { DropRate = 0.1 };
        var chaos = new Random(seed);
        var proposed = 0;
        for (var step = 0; step < 300; step++)
        {
            switch (chaos.Next(20))
            {
                case 0:
                    sim.Isolate(sim.Ids[chaos.Next(nodes)]);
                    break;
                case 1:
                    sim.Heal();
                    break;
                case 2 when sim.Down.Count < (nodes - 1) / 2:
                    sim.Crash(sim.Ids[chaos.Next(nodes)]);
                    break;
                case 3 when sim.Down.Count > 0:
                    sim.Restart(sim.Down.First());
                    break;
                default:
                    if (sim.Leader is { } leader && chaos.Next(3) == 0)
                    {
                        sim.Propose(leader.Id, $"s{seed}-c{proposed++}");
                    }

                    sim.Tick();
                    break;
            }
        }

        // Heal everything: a leader must emerge and every log converge.
        sim.Heal();
        sim.DropRate = 0;
        foreach (var id in sim.Down.ToList())
        {
            sim.Restart(id);
        }

        var finalLeader = sim.ElectLeader(maxTicks: 1000);
        sim.Tick(20);
        Check(sim, finalLeader, seed);
    }

    private static void Check(RaftSimulation sim, RaftNode finalLeader, int seed)
    {
        var context = $"(seed {seed}, {sim.Ids.Length} nodes)";

        // Election Safety: at most one leader per term.
        foreach (var term in sim.LeadersSeen.GroupBy(l => l.Term))
        {
            Assert.True(term.Count() == 1, $"two leaders in term {term.Key} {context}");
        }

        // Log Matching: same index and term means same entry and same history before it.
        var logs = sim.Disks.Values.Select(d => d.Entries).ToList();
        foreach (var a in logs)
        {
            foreach (var b in logs)
            {
                var common = Math.Min(a.Count, b.Count);
                for (var i = common - 1; i >= 0; i--)
                {
                    if (a[i].Term == b[i].Term)
                    {
                        Assert.True(a.Take(i + 1).SequenceEqual(b.Take(i + 1)), $"logs agree at {i + 1} but differ before it {context}");
                        break;
                    }
                }
            }
        }

        // State Machine Safety: what any node applied is a prefix of what every other applied.
        var applied = sim.Disks.Values.Select(d => d.Applied).OrderByDescending(a => a.Count).ToList();
        foreach (var other in applied.Skip(1))
        {
            Assert.True(applied[0].Take(other.Count).SequenceEqual(other), $"applied sequences diverge {context}");
        }

        // Leader Completeness: everything applied anywhere is in the final leader's log.
        var leaderLog = sim.Disks[finalLeader.Id].Entries;
        Assert.True(leaderLog.Take(applied[0].Count).SequenceEqual(applied[0]), $"the final leader lacks committed entries {context}");

        // Liveness after healing: everyone caught up with the leader's commit.
        Assert.All(sim.Disks.Values, d => Assert.Equal(applied[0].Count, d.Applied.Count));
    }
}
