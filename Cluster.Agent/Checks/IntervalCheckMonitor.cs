using Cluster.Contracts;
using Cluster.Agent.Config;
using Microsoft.Extensions.Logging;

namespace Cluster.Agent.Checks;

/// <summary>
/// Runs a probe every <see cref="Interval"/> (HTTP, TCP, gRPC, script), as Consul does: the
/// first run after a random <see cref="Stagger"/> within the interval, so checks registered
/// together do not fire together, then each run an interval after the previous one ended (runs
/// never overlap, so a timeout longer than the interval is harmless). Each run is cancelled at
/// <see cref="Timeout"/>; results pass through the check's thresholds before they are reported.
/// </summary>
public sealed class IntervalCheckMonitor : CheckMonitor
{
    private readonly ICheckProbe _probe;
    private readonly CheckThresholds _thresholds;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private ITimer? _timer;
    private Task _run = Task.CompletedTask;
    private bool _stopped;
    private long _runs;

    internal IntervalCheckMonitor(
        CheckDefinition definition,
        ICheckProbe probe,
        CheckSchedule schedule,
        TimeProvider time,
        Action<CheckStatusUpdate> onUpdate,
        ILogger logger)
        : base(definition.Id, definition.Status, onUpdate, logger)
    {
        _probe = probe;
        _time = time;
        (Interval, Timeout, Stagger) = schedule;
        var critical = definition.FailuresBeforeCritical;
        _thresholds = new CheckThresholds(definition.SuccessBeforePassing, definition.FailuresBeforeWarning ?? critical, critical);
    }

    public TimeSpan Interval { get; }

    public TimeSpan Timeout { get; }

    /// <summary>How long after <see cref="Start"/> the first run comes.</summary>
    public TimeSpan Stagger { get; }

    /// <summary>Runs completed so far.</summary>
    public long Runs => Interlocked.Read(ref _runs);

    public override void Start()
    {
        lock (_lock)
        {
            if (_timer is not null || _stopped)
            {
                throw new InvalidOperationException($"Check {CheckId} was already started.");
            }

            _timer = _time.CreateTimer(static self => ((IntervalCheckMonitor)self!).OnDue(), this, Stagger, System.Threading.Timeout.InfiniteTimeSpan);
        }
    }

    private protected override async ValueTask StopAsync()
    {
        Task run;
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            _timer?.Dispose();
            run = _run;
        }

        await _stop.CancelAsync();
        await run;
        _stop.Dispose();
        _probe.Dispose();
    }

    private void OnDue()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            // Published before the run starts, so a stop that follows waits for it.
            _run = done.Task;
        }

        _ = RunAsync(done);
    }

    private async Task RunAsync(TaskCompletionSource done)
    {
        try
        {
            var result = await ProbeOnceAsync();
            Interlocked.Increment(ref _runs);
            if (result is null)
            {
                return;
            }

            lock (_lock)
            {
                if (_stopped)
                {
                    return;
                }

                // Armed before the result is reported, so whoever sees the report finds the next run scheduled.
                _timer!.Change(Interval, System.Threading.Timeout.InfiniteTimeSpan);
            }

            var published = _thresholds.Apply(result);
            if (published is null)
            {
                LogHeld(result);
                return;
            }

            Publish(published);
        }
        finally
        {
            done.SetResult();
        }
    }

    /// <summary>One run under its timeout; null when the monitor stopped during it.</summary>
    private async Task<CheckResult?> ProbeOnceAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, timeout.Token);
        try
        {
            var result = await _probe.RunAsync(linked.Token);
            return _stop.IsCancellationRequested ? null : result;
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            return null;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return CheckResult.Critical($"Timed out ({GoDuration.Format(Timeout)}) running check");
        }
        catch (Exception ex)
        {
            CheckLog.ProbeThrew(Logger, CheckId, ex);
            return CheckResult.Critical(ex.Message);
        }
    }

    private void LogHeld(CheckResult result)
    {
        if (CheckStatus.IsSuccess(result.Status))
        {
            CheckLog.BelowSuccessThreshold(Logger, CheckId);
        }
        else
        {
            CheckLog.BelowFailureThreshold(Logger, CheckId, result.Status, result.Output);
        }
    }
}
