using System.Diagnostics;
using System.Globalization;
using Cluster.Testing.Jepsen;
using Cluster.Testing.Linearizability;

namespace Cluster.Benchmarks;

/// <summary>
/// How long the linearizability checker takes (<c>scripts/bench-checker</c>): seeded simulated
/// histories — long register and lock histories on three keys, and a dense one whose clients almost
/// always overlap — each checked a few times, median reported with the search steps (the same on
/// any machine). With <c>--history FILE</c> it checks a history a run saved instead (registers and
/// locks by key, as <c>scripts/jepsen</c> does).
/// </summary>
internal static class CheckerBenchmark
{
    public static int Run(int rounds, string? historyFile)
    {
        Console.WriteLine($"# checker benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}; median of {rounds} checks each");
        Console.WriteLine("| history | operations | unknown | keys | steps | max configurations at a cut | check (median) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        var verdicts = new List<Verdict>();
        if (historyFile is not null)
        {
            var saved = History.Load(historyFile);
            verdicts.Add(Measure($"{Path.GetFileName(historyFile)}: registers", new History(saved.Where(o => Workload.IsRegister(o.Key))), RegisterModel.Instance, rounds));
            verdicts.Add(Measure($"{Path.GetFileName(historyFile)}: locks", new History(saved.Where(o => !Workload.IsRegister(o.Key))), MutexModel.Instance, rounds));
        }
        else
        {
            var threeKeys = new HistorySimulationOptions { Operations = 20_000, Keys = ["r1", "r2", "r3"] };
            verdicts.Add(Measure("register, 3 keys", HistorySimulation.Register(42, threeKeys), RegisterModel.Instance, rounds));
            verdicts.Add(Measure("register, 3 keys, one read made stale", HistorySimulation.StaleRegisterRead(HistorySimulation.Register(42, threeKeys), 42).History, RegisterModel.Instance, rounds));
            verdicts.Add(Measure("lock, 3 keys", HistorySimulation.Lock(42, threeKeys), MutexModel.Instance, rounds));
            verdicts.Add(Measure("dense register, 1 key (clients nearly always overlap)", HistorySimulation.Register(7, new HistorySimulationOptions { Operations = 5000, Keys = ["d"], MaxGapMilliseconds = 0.5 }), RegisterModel.Instance, rounds));
        }

        return verdicts.Contains(Verdict.Unknown) ? 2 : 0;
    }

    private static Verdict Measure<TState>(string name, History history, IModel<TState> model, int rounds)
    {
        var times = new List<double>();
        CheckResult result = null!;
        for (var i = 0; i < rounds; i++)
        {
            var started = Stopwatch.GetTimestamp();
            result = LinearizabilityChecker.Check(history, model);
            times.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        times.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} ({result.Verdict}) | {history.Count:N0} | {history.CountOf(OpStatus.Unknown):N0} | {result.Keys.Count} | {result.Keys.Sum(k => k.Steps):N0} | {result.Keys.Select(k => k.MaxConfigurations).DefaultIfEmpty(0).Max()} | {times[times.Count / 2]:F2} s |"));
        return result.Verdict;
    }
}
