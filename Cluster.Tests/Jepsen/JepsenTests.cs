using Cluster.Testing.Jepsen;
using Cluster.Testing.Linearizability;
using Xunit.Abstractions;

namespace Cluster.Tests.Jepsen;

/// <summary>
/// Short runs of the history check against three real server processes, each in a network
/// namespace of its own (the long runs are <c>scripts/jepsen</c>). One must come out
/// linearizable under kills, pauses and partitions; the other proves the harness can see a
/// violation: it records <c>?stale</c> reads as if they were linearizable, and partitions make
/// them stale.
/// </summary>
[Trait("Category", "Integration")]
public sealed class JepsenTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Reads_writes_cas_and_locks_stay_linearizable_while_servers_are_killed_paused_and_partitioned()
    {
        Assert.Null(NetworkLab.Unavailable());
        var report = await JepsenRun.RunAsync(new JepsenOptions { Duration = TimeSpan.FromSeconds(36), Seed = 3 }, new StringWriter());
        output.WriteLine(report.Describe());

        Assert.True(report.Verdict == Verdict.Linearizable, report.Describe());
        var ok = report.History.Where(o => o.Status == OpStatus.Ok).ToList();
        Assert.Contains(ok, o => o.Kind == OpKind.Read && o.Detail == "default");
        Assert.Contains(ok, o => o.Kind == OpKind.Read && o.Detail == "consistent");
        Assert.Contains(ok, o => o.Kind == OpKind.Write);
        Assert.Contains(ok, o => o.Kind == OpKind.Cas && o.Succeeded);
        Assert.Contains(ok, o => o.Kind == OpKind.Acquire && o.Succeeded);
        Assert.Contains(ok, o => o.Kind == OpKind.Release && o.Succeeded);
        Assert.All(Enum.GetValues<FaultKind>(), kind => Assert.True(report.FaultCount(kind) > 0, $"no {kind} in {report.Describe()}"));
        Assert.Empty(report.ClientErrors);
    }

    [Fact]
    public async Task Stale_reads_recorded_as_linearizable_are_caught_with_the_window_that_shows_them()
    {
        Assert.Null(NetworkLab.Unavailable());
        var options = new JepsenOptions
        {
            Duration = TimeSpan.FromSeconds(20), Seed = 5, StaleReads = true, Faults = [FaultKind.Partition], LockShare = 0, LeaderBias = 0,
        };
        var report = await JepsenRun.RunAsync(options, new StringWriter());
        output.WriteLine(report.Describe());

        Assert.True(report.Verdict == Verdict.NotLinearizable, report.Describe());
        // The window the checker prints is the evidence: a read that returned an overwritten value.
        Assert.Contains(report.Registers.Keys, k => k.Verdict == Verdict.NotLinearizable && k.Window is { } w && w.Operations.Any(o => o.Detail == "stale"));
    }
}
