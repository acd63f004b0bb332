using System.Globalization;

namespace Cluster.Testing.Jepsen;

/// <summary>A fault as it happened: when (seconds into the run), what, and whether it began a fault or undid one.</summary>
public sealed record FaultEvent(double At, FaultKind Kind, string What, bool Start);

/// <summary>
/// Injects faults on a schedule: every <see cref="JepsenOptions.FaultEvery"/> one of the enabled
/// kinds (in rounds that hold each kind once, in a seeded order), aimed at the leader most of the time (<see cref="JepsenOptions.LeaderBias"/>) — SIGKILL
/// and a restart later, SIGSTOP and SIGCONT later, or a partition that cuts the server off from
/// the other servers and heals later. Faults overlap (a pause outlasts the interval); a server
/// already down or paused is not chosen again, and one partition stands at a time.
/// </summary>
public sealed class Nemesis(JepsenOptions options, JepsenCluster cluster, HistoryRecorder history)
{
    private readonly Random _random = new(options.Seed * 7919);
    private readonly List<Task> _undo = [];
    private readonly List<FaultKind> _round = [];
    private int _partitioned;

    public List<FaultEvent> Events { get; } = [];

    public int Count(FaultKind kind)
    {
        lock (Events)
        {
            return Events.Count(e => e.Kind == kind && e.Start);
        }
    }

    /// <summary>Injects faults until <paramref name="stop"/>, then undoes every one still in effect.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await Task.Delay(options.FaultEvery, stop); // the schedule itself: faults at fixed intervals
                await InjectAsync(stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        await Task.WhenAll(_undo);
    }

    private async Task InjectAsync(CancellationToken stop)
    {
        // Rounds of every enabled kind in a seeded order, so each kind recurs however short the run.
        if (_round.Count == 0)
        {
            _round.AddRange(options.Faults.Distinct().OrderBy(_ => _random.Next()));
        }

        var at = _round.FindIndex(k => k != FaultKind.Partition || Volatile.Read(ref _partitioned) == 0);
        if (at < 0)
        {
            return;
        }

        var kind = _round[at];
        _round.RemoveAt(at);
        var leader = await cluster.LeaderAsync(stop);
        var candidates = Enumerable.Range(0, options.Servers).Where(cluster.IsRunning).ToList();
        if (candidates.Count == 0)
        {
            return;
        }

        var target = _random.NextDouble() < options.LeaderBias && leader is { } l && candidates.Contains(l) ? l : candidates[_random.Next(candidates.Count)];
        var role = target == leader ? "leader" : "server";
        switch (kind)
        {
            case FaultKind.Kill when cluster.TryFault(target, pause: false):
                await cluster.KillAsync(target);
                Record(kind, $"killed {role} s{target + 1}");
                _undo.Add(Later(options.RestartAfter, async () =>
                {
                    await cluster.RestartAsync(target);
                    Record(kind, $"restarted s{target + 1}", start: false);
                }));
                break;
            case FaultKind.Pause when cluster.TryFault(target, pause: true):
                cluster.Pause(target);
                Record(kind, $"paused {role} s{target + 1}");
                _undo.Add(Later(options.PauseFor, () =>
                {
                    cluster.Resume(target);
                    Record(kind, $"resumed s{target + 1}", start: false);
                    return Task.CompletedTask;
                }));
                break;
            case FaultKind.Partition when Interlocked.CompareExchange(ref _partitioned, 1, 0) == 0:
                await cluster.Lab.PartitionAsync([target]);
                Record(kind, $"cut {role} s{target + 1} off from the other servers");
                _undo.Add(Later(options.PartitionFor, async () =>
                {
                    await cluster.Lab.HealAsync();
                    Volatile.Write(ref _partitioned, 0);
                    Record(kind, "healed the partition", start: false);
                }));
                break;
        }
    }

    private static async Task Later(TimeSpan after, Func<Task> undo)
    {
        await Task.Delay(after, CancellationToken.None); // a fault's length, on the wall clock like the processes it acts on
        await undo();
    }

    private void Record(FaultKind kind, string what, bool start = true)
    {
        lock (Events)
        {
            Events.Add(new FaultEvent(history.Now() / 1e9, kind, what, start));
        }
    }

    /// <summary>The faults, one per line with their times.</summary>
    public string Describe()
    {
        lock (Events)
        {
            return string.Join("\n", Events.Select(e => string.Create(CultureInfo.InvariantCulture, $"  {e.At,7:F2} s  {e.What}")));
        }
    }
}
