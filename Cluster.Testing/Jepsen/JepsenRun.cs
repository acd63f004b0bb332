using System.Globalization;
using System.Text;
using Cluster.Testing.Linearizability;

namespace Cluster.Testing.Jepsen;

/// <summary>What one run did and what the checker made of it.</summary>
public sealed record JepsenReport(
    JepsenOptions Options,
    History History,
    IReadOnlyList<FaultEvent> Faults,
    CheckResult Registers,
    CheckResult Locks,
    IReadOnlyList<string> ClientErrors,
    string HistoryFile)
{
    public int FaultCount(FaultKind kind) => Faults.Count(f => f.Kind == kind && f.Start);

    public Verdict Verdict => CheckResult.Combine([Registers.Verdict, Locks.Verdict]);

    /// <summary>Operations, faults and the verdicts in a few lines; on a violation the smallest failing windows.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        var ops = History;
        string Count(Func<Operation, bool> which) => ops.Count(which).ToString("N0", CultureInfo.InvariantCulture);
        text.AppendLine(CultureInfo.InvariantCulture, $"operations: {ops.Count:N0} ({Count(o => o.Status == OpStatus.Ok)} ok, {Count(o => o.Status == OpStatus.Failed)} failed, {Count(o => o.Status == OpStatus.Unknown)} unknown)");
        text.AppendLine(CultureInfo.InvariantCulture, $"  reads: {Count(o => o.Kind == OpKind.Read && o.Detail == "default")} default, {Count(o => o.Kind == OpKind.Read && o.Detail == "consistent")} consistent, {Count(o => o.Kind == OpKind.Read && o.Detail == "stale")} stale, {Count(o => o.Detail == "final")} final");
        text.AppendLine(CultureInfo.InvariantCulture, $"  writes: {Count(o => o.Kind == OpKind.Write)}; cas: {Count(o => o.Kind == OpKind.Cas && o.Status == OpStatus.Ok && o.Succeeded)} swapped, {Count(o => o.Kind == OpKind.Cas && o.Status == OpStatus.Ok && !o.Succeeded)} refused");
        text.AppendLine(CultureInfo.InvariantCulture, $"  locks: {Count(o => o.Kind == OpKind.Acquire && o.Status == OpStatus.Ok && o.Succeeded)} acquired, {Count(o => o.Kind == OpKind.Acquire && o.Status == OpStatus.Ok && !o.Succeeded)} refused, {Count(o => o.Kind == OpKind.Release && o.Status == OpStatus.Ok && o.Succeeded)} released");
        text.AppendLine(CultureInfo.InvariantCulture, $"faults: {FaultCount(FaultKind.Kill)} kills, {FaultCount(FaultKind.Pause)} pauses, {FaultCount(FaultKind.Partition)} partitions");
        text.AppendLine(CultureInfo.InvariantCulture, $"registers: {Summary(Registers)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"locks: {Summary(Locks)}");
        foreach (var error in ClientErrors)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"client error: {error}");
        }

        foreach (var failure in Registers.Keys.Concat(Locks.Keys).Where(k => k.Verdict != Verdict.Linearizable))
        {
            text.AppendLine(failure.Describe());
        }

        text.Append(CultureInfo.InvariantCulture, $"verdict: {Words(Verdict)}; history in {HistoryFile}");
        return text.ToString();
    }

    private static string Summary(CheckResult result) => string.Create(
        CultureInfo.InvariantCulture,
        $"{Words(result.Verdict)} ({result.Keys.Count} keys, {result.Keys.Sum(k => k.Operations):N0} ops, at most {result.Keys.Select(k => k.MaxConfigurations).DefaultIfEmpty(0).Max()} configurations at a cut, checked in {result.Elapsed.TotalSeconds:F2} s)");

    private static string Words(Verdict verdict) => verdict switch
    {
        Verdict.Linearizable => "linearizable",
        Verdict.NotLinearizable => "NOT LINEARIZABLE",
        _ => "unknown (the checker ran out of its step budget)",
    };
}

/// <summary>
/// One run: three server processes in network namespaces, clients recording a history while the
/// nemesis kills, pauses and partitions servers, then everything healed, a final read of every
/// key, and the history checked — registers and locks each against their model.
/// </summary>
public static class JepsenRun
{
    public static async Task<JepsenReport> RunAsync(JepsenOptions options, TextWriter log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        var work = options.WorkDirectory ?? Path.Combine(Path.GetTempPath(), $"jepsen-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        var runId = $"{DateTime.UtcNow:HHmmss}-{options.Seed}";
        HistoryRecorder history;
        List<FaultEvent> faults;
        Workload workload;
        await using (var cluster = await JepsenCluster.StartAsync(options.Servers, Path.Combine(work, "servers"), options.Seed))
        {
            history = new HistoryRecorder(); // times count from here, when the clients start
            workload = new Workload(options, cluster, history, runId);
            var nemesis = new Nemesis(options, cluster, history);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var clients = workload.RunAsync(stop.Token);
            var faulting = nemesis.RunAsync(stop.Token);
            await Task.Delay(options.Duration, cancellationToken); // the run's length
            await stop.CancelAsync();
            await faulting; // every fault undone: servers restarted or resumed, partitions healed
            await clients; // operations in flight finish or time out
            await log.WriteLineAsync(nemesis.Describe());
            try
            {
                await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(60));
            }
            catch (OperationCanceledException)
            {
                throw new InvalidOperationException($"no leader within 60 s after healing everything:\n{cluster.Output}");
            }

            await workload.FinalReadsAsync(TimeSpan.FromSeconds(60));
            faults = nemesis.Events;
        }

        var recorded = new History(history.Snapshot());
        var file = Path.Combine(work, "history.jsonl");
        recorded.Save(file);
        var (registers, locks) = Check(recorded, new CheckOptions { StepsPerKey = options.CheckSteps }, cancellationToken);
        return new JepsenReport(options, recorded, faults, registers, locks, workload.Errors, file);
    }

    /// <summary>Checks a run's history: register keys against the register model, lock keys against the mutex model.</summary>
    public static (CheckResult Registers, CheckResult Locks) Check(History history, CheckOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(history);
        var registers = LinearizabilityChecker.Check(new History(history.Where(o => Workload.IsRegister(o.Key))), RegisterModel.Instance, options, cancellationToken);
        var locks = LinearizabilityChecker.Check(new History(history.Where(o => !Workload.IsRegister(o.Key))), MutexModel.Instance, options, cancellationToken);
        return (registers, locks);
    }
}
