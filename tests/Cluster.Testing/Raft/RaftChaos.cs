using Cluster.Raft.Core;

namespace Cluster.Testing.Raft;

/// <summary>A safety or liveness property of Raft failed in a simulated run.</summary>
public sealed class RaftViolationException(string message) : Exception(message);

/// <summary>
/// One seeded chaos run — message loss, partitions, crashes and restarts (some in the middle
/// of a write, losing what was not yet on disk), leadership transfers, proposals throughout —
/// then healing and the checks of Raft's safety properties and liveness. The run
/// is a function of (nodes, seed): a failing seed replays exactly. Used by the tests (a fixed
/// range of seeds in CI) and by <c>cluster-bench raft-sim</c> (any number).
/// </summary>
public static class RaftChaos
{
    /// <summary>Runs one seed; returns how many times a node lost power mid-write.</summary>
    public static int Run(int nodes, int seed, int steps = 300)
    {
        try
        {
            return RunUnchecked(nodes, seed, steps);
        }
        catch (InvalidOperationException exception)
        {
            // The simulation stopped making progress (no settling, no leader): a liveness failure.
            throw new RaftViolationException($"liveness: {exception.Message} (seed {seed}, {nodes} nodes)");
        }
    }

    private static int RunUnchecked(int nodes, int seed, int steps)
    {
        var sim = new RaftSimulation(nodes, seed) { DropRate = 0.1, CrashMidWriteRate = 0.002 };
        var chaos = new Random(seed);
        var proposed = 0;

        // Linearizable reads: a released read index must cover every commit any node had seen
        // when the read was asked (a write acknowledged before the read must be visible to it).
        var readFloors = new Dictionary<string, ulong>();
        for (var step = 0; step < steps; step++)
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
                case 4 when sim.Leader is { } current:
                    current.TransferLeadership(sim.Ids[chaos.Next(nodes)]);
                    break;
                case 5 or 6:
                    var reader = sim.Ids[chaos.Next(nodes)];
                    if (!sim.Down.Contains(reader))
                    {
                        var context = $"read-{step}";
                        readFloors[context] = sim.Nodes.Values.Max(n => n.Committed);
                        sim.Nodes[reader].ReadIndex(Google.Protobuf.ByteString.CopyFromUtf8(context));
                    }

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
        sim.CrashMidWriteRate = 0;
        foreach (var id in sim.Down.ToList())
        {
            sim.Restart(id);
        }

        var finalLeader = sim.ElectLeader(maxTicks: 1000);

        sim.Tick(20);
        Check(sim, finalLeader, $"(seed {seed}, {nodes} nodes)");
        foreach (var (node, read) in sim.Reads)
        {
            var floor = readFloors[read.Context.ToStringUtf8()];
            if (read.Index < floor)
            {
                throw new RaftViolationException($"linearizability: node {node} got read index {read.Index} for {read.Context.ToStringUtf8()}, but {floor} was already committed when it asked (seed {seed}, {nodes} nodes)");
            }
        }

        return sim.MidWriteCrashes;
    }

    public static void Check(RaftSimulation sim, RaftNode finalLeader, string context)
    {
        ArgumentNullException.ThrowIfNull(sim);
        ArgumentNullException.ThrowIfNull(finalLeader);

        // Election Safety: at most one leader per term.
        foreach (var term in sim.LeadersSeen.GroupBy(l => l.Term).Where(t => t.Count() > 1))
        {
            throw new RaftViolationException($"election safety: two leaders in term {term.Key} {context}");
        }

        // Log Matching: same index and term means same entry and the same history before it.
        var logs = sim.Disks.Values.Select(d => d.Entries).ToList();
        foreach (var a in logs)
        {
            foreach (var b in logs)
            {
                for (var i = Math.Min(a.Count, b.Count) - 1; i >= 0; i--)
                {
                    if (a[i].Term == b[i].Term)
                    {
                        if (!a.Take(i + 1).SequenceEqual(b.Take(i + 1)))
                        {
                            throw new RaftViolationException($"log matching: logs agree at {i + 1} but differ before it {context}");
                        }

                        break;
                    }
                }
            }
        }

        // State Machine Safety: what any node applied is a prefix of what every other applied.
        var applied = sim.Disks.Values.Select(d => d.Applied).OrderByDescending(a => a.Count).ToList();
        if (applied.Skip(1).Any(other => !applied[0].Take(other.Count).SequenceEqual(other)))
        {
            throw new RaftViolationException($"state machine safety: applied sequences diverge {context}");
        }

        // Leader Completeness: everything applied anywhere is in the final leader's log.
        if (!sim.Disks[finalLeader.Id].Entries.Take(applied[0].Count).SequenceEqual(applied[0]))
        {
            throw new RaftViolationException($"leader completeness: the final leader lacks committed entries {context}");
        }

        // Liveness after healing: everyone caught up with the leader's commit.
        if (sim.Disks.Values.Any(d => d.Applied.Count != applied[0].Count))
        {
            throw new RaftViolationException($"liveness: not every node applied all {applied[0].Count} entries after healing {context}");
        }
    }
}
