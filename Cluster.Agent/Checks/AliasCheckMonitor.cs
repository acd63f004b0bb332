using Microsoft.Extensions.Logging;
using Cluster.Primitives;

namespace Cluster.Agent.Checks;

/// <summary>
/// An alias check: follows <see cref="Target"/>'s checks through the <see cref="IAliasSource"/>
/// watch and reports their combined health as soon as they change. When the source fails it
/// retries, at once for the first few failures, then backing off up to a minute (as Consul);
/// the status stays as it was meanwhile.
/// </summary>
public sealed class AliasCheckMonitor : CheckMonitor
{
    private const int RetriesBeforeBackoff = 3;
    private static readonly Backoff RetryBackoff = new(TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(1));

    private readonly IAliasSource _source;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private Task? _loop;
    private bool _stopped;

    internal AliasCheckMonitor(string checkId, string initialStatus, AliasTarget target, IAliasSource source, TimeProvider time, Action<CheckStatusUpdate> onUpdate, ILogger logger)
        : base(checkId, initialStatus, onUpdate, logger)
    {
        Target = target;
        _source = source;
        _time = time;
    }

    public AliasTarget Target { get; }

    public override void Start()
    {
        lock (_lock)
        {
            if (_loop is not null || _stopped)
            {
                throw new InvalidOperationException($"Check {CheckId} was already started.");
            }

            _loop = WatchAsync(_stop.Token);
        }
    }

    private protected override async ValueTask StopAsync()
    {
        Task? loop;
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            loop = _loop;
        }

        await _stop.CancelAsync();
        if (loop is not null)
        {
            await loop;
        }

        _stop.Dispose();
    }

    private async Task WatchAsync(CancellationToken stop)
    {
        await Task.Yield(); // Start returns before the first wait
        long version = 0;
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var snapshot = await _source.WaitAsync(Target, version, stop);
                failures = 0;
                version = snapshot.Version;
                Publish(AliasHealth.Evaluate(Target, snapshot, CheckId));
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failures++;
                var delay = Backoff(failures);
                CheckLog.AliasSourceFailed(Logger, CheckId, delay, ex);
                if (delay > TimeSpan.Zero && !await DelayAsync(delay, stop))
                {
                    return;
                }
            }
        }
    }

    /// <summary>Consul's alias backoff: a few retries at once, then 2 s doubling up to a minute.</summary>
    private static TimeSpan Backoff(int failures) =>
        failures <= RetriesBeforeBackoff ? TimeSpan.Zero : RetryBackoff.After(failures - RetriesBeforeBackoff);

    /// <summary>False when stopped during the wait.</summary>
    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, _time, stop);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
