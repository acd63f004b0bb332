using System.Diagnostics;
using System.Globalization;
using Cluster.Testing.Jepsen;
using Cluster.Testing.Linearizability;

namespace Cluster.Benchmarks;

/// <summary>
/// Long history checks (<c>scripts/jepsen</c>): N runs of S seconds against three server processes
/// with kills, pauses and partitions; each run's operations, faults and verdict, then totals. Exit
/// code 1 if any run was not linearizable, 2 if any could not be decided.
/// </summary>
internal static class JepsenCommand
{
    public static async Task<int> RunAsync(JepsenOptions template, int runs)
    {
        if (NetworkLab.Unavailable() is { } why)
        {
            Console.Error.WriteLine($"jepsen: {why}");
            return 2;
        }

        // Ctrl-C or SIGTERM ends the run cleanly: servers stopped, namespaces and the bridge removed.
        using var stop = new CancellationTokenSource();
        using var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Stop);
        using var terminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Stop);
        void Stop(System.Runtime.InteropServices.PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        var started = Stopwatch.GetTimestamp();
        var (operations, kills, pauses, partitions, violations, undecided) = (0L, 0, 0, 0, 0, 0);
        for (var run = 0; run < runs; run++)
        {
            var options = template with { Seed = template.Seed + run };
            Console.WriteLine($"== run {run + 1}/{runs}: {options.Duration.TotalSeconds:F0} s, {options.Servers} servers, {options.Clients} clients, faults {string.Join(",", options.Faults).ToLowerInvariant()}, seed {options.Seed}");
            JepsenReport report;
            try
            {
                report = await JepsenRun.RunAsync(options, Console.Out, stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                Console.Error.WriteLine("jepsen: interrupted; servers stopped and namespaces removed");
                return 130;
            }

            Console.WriteLine(report.Describe());
            operations += report.History.Count;
            kills += report.FaultCount(FaultKind.Kill);
            pauses += report.FaultCount(FaultKind.Pause);
            partitions += report.FaultCount(FaultKind.Partition);
            violations += report.Verdict == Verdict.NotLinearizable ? 1 : 0;
            undecided += report.Verdict == Verdict.Unknown ? 1 : 0;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"== {runs} runs, {operations:N0} operations, {kills} kills, {pauses} pauses, {partitions} partitions: {violations} not linearizable, {undecided} undecided ({Stopwatch.GetElapsedTime(started).TotalMinutes:F1} min)"));
        return violations > 0 ? 1 : undecided > 0 ? 2 : 0;
    }
}
