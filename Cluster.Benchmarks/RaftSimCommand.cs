using System.Diagnostics;
using Cluster.Testing.Raft;

namespace Cluster.Benchmarks;

/// <summary>Runs any number of seeded Raft chaos runs (the same ones CI runs a fixed range of); a failing seed replays exactly.</summary>
internal static class RaftSimCommand
{
    /// <summary><paramref name="catchUpOnResume"/> false models a driver that ticks only on its timer (what served stale lease reads after a pause).</summary>
    public static int Run(int nodes, int from, int seeds, bool catchUpOnResume = true)
    {
        var start = Stopwatch.GetTimestamp();
        var failures = 0;
        var tornWrites = 0;
        for (var seed = from; seed < from + seeds; seed++)
        {
            if (Environment.GetEnvironmentVariable("RAFT_SIM_TRACE") == "1")
            {
                Console.Error.WriteLine($"seed {seed}");
            }

            try
            {
                tornWrites += RaftChaos.Run(nodes, seed, catchUpOnResume: catchUpOnResume);
            }
            catch (RaftViolationException violation)
            {
                failures++;
                Console.WriteLine($"FAIL seed {seed}: {violation.Message}");
            }
        }

        Console.WriteLine($"{seeds} runs of {nodes} nodes (seeds {from}..{from + seeds - 1}): {failures} failed, {tornWrites} crashes mid-write, {Stopwatch.GetElapsedTime(start).TotalSeconds:F1} s");
        return failures == 0 ? 0 : 1;
    }
}
