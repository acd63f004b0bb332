using Cluster.Agent.Checks;
using Cluster.Agent.Config;
using Cluster.Testing;

namespace Cluster.Tests.Checks;

/// <summary>Alias checks over an in-memory source: Consul's combination rule, and reacting at once to changes.</summary>
public sealed class AliasCheckTests
{
    private static readonly AliasTarget Web = new(null, "web");

    [Fact]
    public void Critical_beats_warning_beats_passing_and_node_checks_count_for_the_service()
    {
        AliasedCheck Check(string id, string service, string status) => new(id, id, service, status, $"{id} says {status}");

        Assert.Equal(CheckResult.Passing("No checks found."), Evaluate([]));
        Assert.Equal(CheckResult.Passing("All checks passing."), Evaluate([Check("a", "web", "passing"), Check("serfHealth", "", "passing")]));
        Assert.Equal(
            CheckResult.Warning("Aliased check \"b\" failing: b says warning"),
            Evaluate([Check("a", "web", "passing"), Check("b", "web", "warning"), Check("c", "web", "passing")]));
        Assert.Equal(
            CheckResult.Critical("Aliased check \"c\" failing: c says critical"),
            Evaluate([Check("b", "web", "warning"), Check("c", "web", "critical"), Check("d", "web", "warning")]));
        Assert.Equal(
            CheckResult.Critical("Aliased check \"serfHealth\" failing: serfHealth says critical"),
            Evaluate([Check("a", "web", "passing"), Check("serfHealth", "", "critical")]));
        // Another service's checks, and the alias itself, do not count.
        Assert.Equal(CheckResult.Passing("All checks passing."), Evaluate([Check("a", "web", "passing"), Check("x", "db", "critical"), Check("alias", "web", "critical")]));
        // A node alias follows the node's own checks.
        Assert.Equal(CheckResult.Passing("All checks passing."), AliasHealth.Evaluate(new AliasTarget("n2", null), Snapshot([Check("serfHealth", "", "passing"), Check("x", "db", "critical")]), "alias"));

        static CheckResult Evaluate(AliasedCheck[] checks) => AliasHealth.Evaluate(Web, Snapshot(checks), "alias");
    }

    [Fact]
    public void A_service_that_is_not_registered_is_critical()
    {
        var result = AliasHealth.Evaluate(new AliasTarget("n2", "web"), new AliasSnapshot(3, [], ServiceExists: false), "alias");

        Assert.Equal(CheckResult.Critical("Service web could not be found on node n2"), result);
    }

    [Fact]
    public async Task The_alias_follows_every_change_as_it_happens()
    {
        var source = new MemoryAliasSource();
        source.Set([new AliasedCheck("a", "a", "web", "passing", "")]);
        var updates = new Updates();
        using var factory = new CheckMonitorFactory(new CheckOptions(), source);
        var definition = new CheckDefinition { Id = "alias", Name = "web alias", AliasService = "web" };
        await using var monitor = factory.Create(definition, updates.Callback);
        Assert.Equal(Web, ((AliasCheckMonitor)monitor).Target);
        monitor.Start();

        Assert.Equal(new CheckStatusUpdate("alias", "passing", "All checks passing."), await updates.NextAsync());
        source.Set([new AliasedCheck("a", "a", "web", "critical", "down")]);
        Assert.Equal(new CheckStatusUpdate("alias", "critical", "Aliased check \"a\" failing: down"), await updates.NextAsync());
        source.Set([new AliasedCheck("a", "a", "web", "warning", "slow")]);
        Assert.Equal(new CheckStatusUpdate("alias", "warning", "Aliased check \"a\" failing: slow"), await updates.NextAsync());
        source.Set([], serviceExists: false);
        Assert.Equal(new CheckStatusUpdate("alias", "critical", "Service web could not be found on node (local)"), await updates.NextAsync());
    }

    [Fact]
    public async Task A_failing_source_is_retried_with_backoff_on_the_clock_and_the_status_kept()
    {
        var clock = new ManualTimeProvider();
        var armed = new ArmedClock(clock);
        var source = new MemoryAliasSource { FailuresToCome = 4 };
        source.Set([new AliasedCheck("a", "a", "web", "passing", "")]);
        var updates = new Updates();
        using var factory = new CheckMonitorFactory(new CheckOptions { TimeProvider = armed }, source);
        await using var monitor = factory.Create(new CheckDefinition { Id = "alias", Name = "alias", AliasService = "web" }, updates.Callback);
        monitor.Start();

        // Three retries at once, then the fourth failure waits 2 s on the clock.
        await armed.Armed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(4, source.Calls);
        Assert.Empty(updates.All);
        Assert.Equal(CheckStatus.Critical, monitor.Current.Status);
        clock.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(new CheckStatusUpdate("alias", "passing", "All checks passing."), await updates.NextAsync());
        Assert.Equal(0, source.FailuresToCome);
    }

    [Fact]
    public async Task Disposing_ends_the_watch()
    {
        var source = new MemoryAliasSource();
        source.Set([]);
        var updates = new Updates();
        using var factory = new CheckMonitorFactory(new CheckOptions(), source);
        var monitor = factory.Create(new CheckDefinition { Id = "alias", Name = "alias", AliasNode = "n2" }, updates.Callback);
        monitor.Start();
        Assert.Equal("No checks found.", (await updates.NextAsync()).Output);
        await source.Waiting.Task.WaitAsync(TimeSpan.FromSeconds(30));

        await monitor.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(source.WaitWasCancelled);
    }

    [Fact]
    public void Alias_checks_need_a_source()
    {
        using var factory = new CheckMonitorFactory(new CheckOptions());
        Assert.Throws<InvalidCheckException>(() => factory.Create(new CheckDefinition { Name = "alias", AliasService = "web" }, _ => { }));
    }

    private static AliasSnapshot Snapshot(AliasedCheck[] checks) => new(1, ValueList.From(checks));

    /// <summary>A manual clock that says when a timer is armed, so the test advances only after it is.</summary>
    private sealed class ArmedClock(ManualTimeProvider inner) : TimeProvider
    {
        public TaskCompletionSource Armed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

        public override long GetTimestamp() => inner.GetTimestamp();

        public override long TimestampFrequency => inner.TimestampFrequency;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = inner.CreateTimer(callback, state, dueTime, period);
            Armed.TrySetResult();
            return timer;
        }
    }

    /// <summary>Aliased checks kept in memory; waits block until <see cref="Set"/> changes the version.</summary>
    private sealed class MemoryAliasSource : IAliasSource
    {
        private readonly Lock _lock = new();
        private AliasSnapshot _snapshot = new(0, []);
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int FailuresToCome { get; set; }

        public int Calls { get; private set; }

        public bool WaitWasCancelled { get; private set; }

        public TaskCompletionSource Waiting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Set(AliasedCheck[] checks, bool serviceExists = true)
        {
            TaskCompletionSource changed;
            lock (_lock)
            {
                _snapshot = new AliasSnapshot(_snapshot.Version + 1, ValueList.From(checks), serviceExists);
                changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            changed.SetResult();
        }

        public async Task<AliasSnapshot> WaitAsync(AliasTarget target, long sinceVersion, CancellationToken cancellationToken)
        {
            while (true)
            {
                Task changed;
                lock (_lock)
                {
                    Calls++;
                    if (FailuresToCome > 0)
                    {
                        FailuresToCome--;
                        throw new IOException("server unreachable");
                    }

                    if (_snapshot.Version != sinceVersion)
                    {
                        return _snapshot;
                    }

                    changed = _changed.Task;
                }

                Waiting.TrySetResult();
                try
                {
                    await changed.WaitAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    WaitWasCancelled = true;
                    throw;
                }
            }
        }
    }
}
