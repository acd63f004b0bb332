using Cluster.Raft.Core;
using Cluster.Raft.Wire;

namespace Cluster.Testing.Raft;

/// <summary>A safety or liveness property of Raft failed in a simulated run.</summary>
public sealed class RaftViolationException(string message) : Exception(message);

/// <summary>
/// One seeded chaos run — message loss, duplication, delay and reordering, symmetric and
/// one-way partitions, crashes
/// and restarts (some in the middle of a write, losing what was not yet on disk), pauses (a node
/// frozen while the others run — the leader half the time — that resumes with a backlog), leadership
/// transfers, servers added, promoted and removed, logs compacted into snapshots that lagging
/// followers must install, quorum and lease reads, proposals throughout — then healing and the checks of Raft's safety properties and liveness. The run
/// is a function of (nodes, seed): a failing seed replays exactly. Used by the tests (a fixed
/// range of seeds in CI) and by <c>cluster-bench raft-sim</c> (any number).
/// </summary>
public static class RaftChaos
{
    /// <summary>Runs one seed; returns how many times a node lost power mid-write.</summary>
    public static int Run(int nodes, int seed, int steps = 300, bool catchUpOnResume = true)
    {
        try
        {
            return RunUnchecked(nodes, seed, steps, catchUpOnResume);
        }
        catch (InvalidOperationException exception)
        {
            // The simulation stopped making progress (no settling, no leader): a liveness failure.
            throw new RaftViolationException($"liveness: {exception.Message} (seed {seed}, {nodes} nodes)");
        }
    }

    private static int RunUnchecked(int nodes, int seed, int steps, bool catchUpOnResume)
    {
        const int spares = 2;
        var sim = new RaftSimulation(nodes, seed, spares: spares)
        {
            DropRate = 0.1, DuplicateRate = 0.02, DelayRate = 0.02, Reorder = true, CrashMidWriteRate = 0.002, CatchUpOnResume = catchUpOnResume,
        };
        var chaos = new Random(seed);
        var all = nodes + spares;
        var proposed = 0;

        // Linearizable reads: a released read index must cover every commit any node had seen
        // when the read was asked (a write acknowledged before the read must be visible to it).
        var readFloors = new Dictionary<string, ulong>();
        for (var step = 0; step < steps; step++)
        {
            switch (chaos.Next(26))
            {
                case 0:
                    sim.Isolate(sim.Ids[chaos.Next(all)]);
                    break;
                case 1:
                    sim.Heal();
                    break;
                case 2 when sim.Down.Count < (nodes - 1) / 2:
                    sim.Crash(sim.Ids[chaos.Next(all)]);
                    break;
                case 3 when sim.Down.Count > 0:
                    sim.Restart(sim.Down.First());
                    break;
                case 4 when sim.Leader is { } current:
                    current.TransferLeadership(sim.Ids[chaos.Next(all)]);
                    break;
                case 5 or 6:
                    var reader = sim.Ids[chaos.Next(all)];
                    if (!sim.Down.Contains(reader))
                    {
                        var context = $"read-{step}";
                        readFloors[context] = sim.Nodes.Values.Max(n => n.Committed);
                        sim.Read(reader, context, chaos.Next(2) == 0 ? ReadMode.Lease : ReadMode.Quorum);
                    }

                    break;
                case 7 when sim.Leader is { } current:
                    current.ProposeConfChange(ChangeMembership(current.Configuration, nodes, all, chaos));
                    break;
                case 8:
                    sim.Compact(sim.Ids[chaos.Next(all)]);
                    break;
                case 9:
                    sim.CutOneWay(sim.Ids[chaos.Next(all)], sim.Ids[chaos.Next(all)]);
                    break;
                case 10:
                    sim.Pause(chaos.Next(2) == 0 && sim.Leader is { } paused ? paused.Id : sim.Ids[chaos.Next(all)]);
                    break;
                case 11 when sim.Paused.Count > 0:
                    sim.Resume(sim.Paused.ElementAt(chaos.Next(sim.Paused.Count)));
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
        foreach (var id in sim.Paused.ToList())
        {
            sim.Resume(id);
        }

        sim.Heal();
        sim.DropRate = 0;
        sim.DelayRate = 0;
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

    /// <summary>Keeps the voter count near the starting size: add or promote a server when below it, otherwise remove or demote one.</summary>
    private static ConfChange ChangeMembership(ConfState conf, int voters, int all, Random chaos)
    {
        var id = (ulong)chaos.Next(1, all + 1);
        if (conf.Voters.Count < voters || chaos.Next(3) == 0)
        {
            return new ConfChange { Type = conf.NonVoters.Contains(id) || chaos.Next(2) == 0 ? ConfChangeType.AddVoter : ConfChangeType.AddNonVoter, Node = id };
        }

        return new ConfChange { Type = ConfChangeType.RemoveServer, Node = id };
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
        var logs = sim.Disks.Values.Select(d => d.Log.ToList()).ToList();
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
        if (!sim.Disks[finalLeader.Id].Log.Take(applied[0].Count).SequenceEqual(applied[0]))
        {
            throw new RaftViolationException($"leader completeness: the final leader lacks committed entries {context}");
        }

        // Liveness after healing: every member of the final configuration caught up with the leader's commit.
        var members = finalLeader.Configuration;
        if (sim.Disks.Where(d => members.IsMember(d.Key)).Any(d => d.Value.Applied.Count != applied[0].Count))
        {
            var state = string.Join(", ", sim.Nodes.Values.Select(n => $"{n.Id}:{n.Role}/t{n.Term}/applied {sim.Disks[n.Id].Applied.Count}/snap {n.Snapshot.Index}/last {n.LastIndex}"));
            throw new RaftViolationException($"liveness: not every member applied all {applied[0].Count} entries after healing; members {members}; {state} {context}");
        }
    }
}
