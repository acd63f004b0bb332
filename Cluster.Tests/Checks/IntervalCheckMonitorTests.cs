using Cluster.Agent.Checks;
using Cluster.Agent.Config;
using Cluster.Testing;

namespace Cluster.Tests.Checks;

/// <summary>Scheduling, timeouts and thresholds on a manual clock, with probes that answer from a script.</summary>
public sealed class IntervalCheckMonitorTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    private static readonly CheckResult Ok = CheckResult.Passing("ok");
    private static readonly CheckResult Down = CheckResult.Critical("down");

    private readonly ManualTimeProvider _clock = new();
    private readonly Updates _updates = new();

    private CheckMonitorFactory Factory(int seed = 7) => new(new CheckOptions { TimeProvider = _clock, Random = new Random(seed) });

    private static CheckDefinition Definition(int successBeforePassing = 0, int failuresBeforeCritical = 0, int? failuresBeforeWarning = null) => new()
    {
        Name = "web",
        Tcp = "127.0.0.1:1",
        Interval = Interval,
        SuccessBeforePassing = successBeforePassing,
        FailuresBeforeCritical = failuresBeforeCritical,
        FailuresBeforeWarning = failuresBeforeWarning,
    };

    [Fact]
    public async Task The_first_run_comes_after_a_seeded_stagger_within_the_interval_then_one_every_interval()
    {
        using var factory = Factory(seed: 42);
        var probe = new ScriptedProbe(Ok);
        await using var monitor = factory.Create(Definition(), probe, _updates.Callback);
        var expected = TimeSpan.FromTicks((long)(Interval.Ticks * new Random(42).NextDouble()));
        Assert.Equal(expected, monitor.Stagger);
        Assert.InRange(monitor.Stagger, TimeSpan.Zero, Interval - TimeSpan.FromTicks(1));

        monitor.Start();
        _clock.Advance(monitor.Stagger - TimeSpan.FromTicks(1));
        Assert.Equal(0, probe.Calls);
        _clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(1, probe.Calls);
        Assert.Equal([(CheckStatus.Passing, "ok")], _updates.Pairs);

        _clock.Advance(Interval - TimeSpan.FromTicks(1));
        Assert.Equal(1, probe.Calls);
        _clock.Advance(TimeSpan.FromTicks(1) + (Interval * 4));
        Assert.Equal(6, probe.Calls);
        Assert.Equal(6, ((IntervalCheckMonitor)monitor).Runs);
        Assert.Single(_updates.All); // the same result again is no news
    }

    [Fact]
    public async Task Checks_registered_together_are_staggered_apart()
    {
        using var factory = Factory(seed: 1);
        var staggers = new List<TimeSpan>();
        for (var i = 0; i < 5; i++)
        {
            await using var monitor = factory.Create(Definition(), new ScriptedProbe(Ok), _updates.Callback);
            staggers.Add(monitor.Stagger);
        }

        Assert.Equal(5, staggers.Distinct().Count());
        Assert.All(staggers, s => Assert.InRange(s, TimeSpan.Zero, Interval));
    }

    [Fact]
    public async Task Intervals_below_a_second_are_raised_to_it_as_in_Consul()
    {
        using var factory = Factory();
        await using var monitor = factory.Create(Definition() with { Interval = TimeSpan.FromMilliseconds(10) }, new ScriptedProbe(Ok), _updates.Callback);
        Assert.Equal(TimeSpan.FromSeconds(1), monitor.Interval);
        Assert.Equal(TimeSpan.FromSeconds(10), monitor.Timeout);
    }

    [Fact]
    public async Task Success_and_failure_thresholds_count_consecutive_results_and_hold_the_status_until_reached()
    {
        using var factory = Factory();
        var probe = new ScriptedProbe(Ok, Ok, Down, Down, Ok, Down, Down, Down, Ok, Ok);
        await using var monitor = factory.Create(Definition(successBeforePassing: 2, failuresBeforeCritical: 3), probe, _updates.Callback);
        monitor.Start();

        var statuses = new List<string>();
        _clock.Advance(monitor.Stagger);
        statuses.Add(monitor.Current.Status);
        for (var i = 1; i < 10; i++)
        {
            _clock.Advance(Interval);
            statuses.Add(monitor.Current.Status);
        }

        Assert.Equal(10, probe.Calls);
        // ok ok | down down (held) ok (resets the failures) down down down | ok (held) ok
        Assert.Equal(
            ["critical", "passing", "passing", "passing", "passing", "passing", "passing", "critical", "critical", "passing"],
            statuses);
        Assert.Equal([(CheckStatus.Passing, "ok"), (CheckStatus.Critical, "down"), (CheckStatus.Passing, "ok")], _updates.Pairs);
    }

    [Fact]
    public async Task Failures_before_warning_turn_the_check_warning_first()
    {
        using var factory = Factory();
        var probe = new ScriptedProbe(Ok, Down, CheckResult.Critical("still down"), Down);
        await using var monitor = factory.Create(Definition(failuresBeforeCritical: 3, failuresBeforeWarning: 1), probe, _updates.Callback);
        monitor.Start();
        _clock.Advance(monitor.Stagger + (Interval * 3));

        Assert.Equal(
            [(CheckStatus.Passing, "ok"), (CheckStatus.Warning, "down"), (CheckStatus.Warning, "still down"), (CheckStatus.Critical, "down")],
            _updates.Pairs);
    }

    [Fact]
    public async Task A_warning_counts_as_a_success_and_is_reported_as_it_is()
    {
        using var factory = Factory();
        var probe = new ScriptedProbe(CheckResult.Warning("slow"), CheckResult.Warning("slow"));
        await using var monitor = factory.Create(Definition(successBeforePassing: 2), probe, _updates.Callback);
        monitor.Start();
        _clock.Advance(monitor.Stagger);
        Assert.Empty(_updates.All);
        _clock.Advance(Interval);
        Assert.Equal([(CheckStatus.Warning, "slow")], _updates.Pairs);
    }

    [Fact]
    public async Task A_new_output_with_the_same_status_is_reported()
    {
        using var factory = Factory();
        var probe = new ScriptedProbe(CheckResult.Critical(""), CheckResult.Critical("refused"), CheckResult.Critical("refused"));
        await using var monitor = factory.Create(Definition(), probe, _updates.Callback);
        monitor.Start();
        _clock.Advance(monitor.Stagger + (Interval * 2));

        // The first result equals the initial state (critical, no output): nothing to say.
        Assert.Equal([(CheckStatus.Critical, "refused")], _updates.Pairs);
    }

    [Fact]
    public async Task A_run_past_its_timeout_is_cancelled_and_critical_and_runs_never_overlap()
    {
        using var factory = Factory();
        var probe = new ScriptedProbe(Ok) { Pending = new TaskCompletionSource<CheckResult>() };
        // A timeout longer than the interval: the next run waits for this one.
        await using var monitor = factory.Create(Definition() with { Timeout = TimeSpan.FromSeconds(25) }, probe, _updates.Callback);
        monitor.Start();
        _clock.Advance(monitor.Stagger);
        await probe.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        _clock.Advance(TimeSpan.FromSeconds(25) - TimeSpan.FromTicks(1));
        Assert.Equal(1, probe.Calls);
        probe.Pending = null;
        _clock.Advance(TimeSpan.FromTicks(1));

        Assert.Equal(new CheckStatusUpdate("web", CheckStatus.Critical, "Timed out (25s) running check"), await _updates.NextAsync());
        _clock.Advance(Interval);
        Assert.Equal(2, probe.Calls);
    }

    [Fact]
    public async Task Disposing_cancels_the_run_in_progress_and_nothing_is_reported_or_scheduled_after()
    {
        using var factory = Factory();
        var probe = new ScriptedProbe(Ok) { Pending = new TaskCompletionSource<CheckResult>() };
        var monitor = factory.Create(Definition(), probe, _updates.Callback);
        monitor.Start();
        _clock.Advance(monitor.Stagger);
        await probe.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        await monitor.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(probe.Pending!.Task.IsCanceled);
        Assert.True(probe.Disposed);
        Assert.Equal(0, _clock.ActiveTimers);
        _clock.Advance(Interval * 10);
        Assert.Equal(1, probe.Calls);
        Assert.Empty(_updates.All);
    }

    [Fact]
    public async Task A_probe_that_throws_makes_the_check_critical_and_a_callback_that_throws_stops_nothing()
    {
        using var factory = Factory();
        var probe = new ThrowingProbe();
        await using var monitor = factory.Create(Definition(), probe, _ => throw new InvalidOperationException("consumer bug"));
        monitor.Start();
        _clock.Advance(monitor.Stagger + Interval);

        Assert.Equal(2, probe.Calls);
        Assert.Equal(CheckResult.Critical("probe bug"), monitor.Current);
    }

    [Fact]
    public async Task A_monitor_starts_once()
    {
        using var factory = Factory();
        await using var monitor = factory.Create(Definition(), new ScriptedProbe(Ok), _updates.Callback);
        monitor.Start();
        Assert.Throws<InvalidOperationException>(monitor.Start);
    }

    private sealed class ThrowingProbe : ICheckProbe
    {
        public int Calls { get; private set; }

        public Task<CheckResult> RunAsync(CancellationToken cancellationToken)
        {
            Calls++;
            throw new InvalidOperationException("probe bug");
        }

        public void Dispose()
        {
        }
    }
}
