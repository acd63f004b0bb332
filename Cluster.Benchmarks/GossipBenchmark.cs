using System.Diagnostics;
using System.Globalization;
using Cluster.Gossip.Core;
using Cluster.Gossip.Wire;
using Cluster.Testing.Gossip;

namespace Cluster.Benchmarks;

/// <summary>
/// Failure detection of the gossip core at 50, 200 and 1,000 simulated members with default
/// settings (virtual time, seeded): time until the first member declares a killed member
/// failed and until every member knows, beside memberlist's model; bytes sent per member per
/// second in steady state (after the join news has spread); false positives with 10% packet loss and with one member starved of CPU.
/// </summary>
internal static class GossipBenchmark
{
    private const int Kills = 5;

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    public static void Run(int[] sizes, int seed)
    {
        var defaults = new GossipOptions { Name = "x", Address = "x" };
        Console.WriteLine($"# Gossip benchmark (simulated network, virtual time, seed {seed}): probe {defaults.ProbeInterval.TotalSeconds} s, probe timeout {defaults.ProbeTimeout.TotalMilliseconds} ms, {defaults.IndirectChecks} indirect checks, suspicion mult {defaults.SuspicionMult} (max x{defaults.SuspicionMaxTimeoutMult}), gossip {defaults.GossipInterval.TotalMilliseconds} ms to {defaults.GossipNodes}, latency 1-5 ms");
        Console.WriteLine();
        Console.WriteLine($"| members | first declared failed s (median / max of {Kills}) | all know s (median / max) | model s (2 probes + 4·log10(N+1) probes + log2 N gossip rounds) | all-know / model (median / max) | bytes/member/s | mean health score at the kill | false positives, 10% loss (120 s) | false positives, starved member (120 s) | wall s |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var size in sizes)
        {
            var start = Stopwatch.GetTimestamp();
            var sim = new GossipSimulation(size, seed);
            sim.Run(TimeSpan.FromSeconds(60)); // everyone joined through one member; let that news finish spreading

            var bytesBefore = sim.BytesSent;
            var window = TimeSpan.FromSeconds(10);
            sim.Run(window);
            var bytesPerMemberPerSecond = (sim.BytesSent - bytesBefore) / (double)size / window.TotalSeconds;

            var awareness = sim.Nodes.Values.Average(n => n.Awareness);

            // Five members killed one after another: detection depends on when someone first
            // probes the dead member (round robin), so one kill says little.
            var firsts = new List<double>();
            var alls = new List<double>();
            for (var k = 0; k < Kills; k++)
            {
                var victim = $"n{(size / 2) + k}";
                var killedAt = sim.Now;
                sim.Kill(victim);
                var all = sim.RunUntil(() => sim.AllSee(victim, MemberStatus.Dead), TimeSpan.FromSeconds(300));
                alls.Add(all?.TotalSeconds ?? double.PositiveInfinity);
                firsts.Add(sim.Events.Where(e => e.At >= killedAt && e.Event.Kind == MembershipEventKind.Failed && e.Event.Member.Name == victim).Select(e => (e.At - killedAt).TotalSeconds).DefaultIfEmpty(double.PositiveInfinity).Min());
            }

            var model = (defaults.ProbeInterval * 2) + (defaults.ProbeInterval * (4 * Math.Log10(size + 1))) + (defaults.GossipInterval * Math.Ceiling(Math.Log2(size)));

            var lossy = new GossipSimulation(size, seed + 1) { LossRate = 0.1 };
            lossy.Run(TimeSpan.FromSeconds(120));
            var lossFalse = lossy.Events.Count(e => e.Event.Kind == MembershipEventKind.Failed);

            var starved = new GossipSimulation(size, seed + 2);
            starved.Run(TimeSpan.FromSeconds(10));
            starved.Starved.Add("n1");
            starved.Run(TimeSpan.FromSeconds(120));
            var starvedFalse = starved.Events.Count(e => e.Event.Kind == MembershipEventKind.Failed);

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {size} | {Median(firsts):F2} / {firsts.Max():F2} | {Median(alls):F2} / {alls.Max():F2} | {model.TotalSeconds:F2} | {Median(alls) / model.TotalSeconds:F2}x / {alls.Max() / model.TotalSeconds:F2}x | {bytesPerMemberPerSecond:F0} | {awareness:F2} | {lossFalse} | {starvedFalse} | {Stopwatch.GetElapsedTime(start).TotalSeconds:F0} |"));
        }
    }
}
