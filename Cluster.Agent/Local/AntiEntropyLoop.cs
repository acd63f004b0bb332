using Cluster.Primitives;
using Cluster.Server.Nodes;
using Microsoft.Extensions.Logging;

namespace Cluster.Agent.Local;

/// <summary>
/// The driver of anti-entropy: one loop that runs a sync whenever a change asks for one, a full
/// sync every interval (scaled with the cluster, staggered at random), and a retry soon after a
/// failure. It knows nothing of services or checks: the two steps it runs are given (the local
/// agent's compare and push, which <see cref="AntiEntropy"/> decides). Callers that made a change
/// can wait (bounded) for a sync that includes it.
/// </summary>
internal sealed partial class AntiEntropyLoop : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly Func<CancellationToken, Task> _full;
    private readonly Func<CancellationToken, Task> _changes;
    private readonly LocalAgentOptions _options;
    private readonly Func<int> _clusterSize;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<(long Generation, TaskCompletionSource Done)> _waiters = [];
    private readonly ChangeSignal _turned = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;
    private bool _fullRequested = true;
    private long _requested;
    private long _synced;
    private long _syncs;

    public AntiEntropyLoop(Func<CancellationToken, Task> full, Func<CancellationToken, Task> changes, LocalAgentOptions options, Func<int> clusterSize, TimeProvider time, Random random, ILogger logger)
    {
        _full = full;
        _changes = changes;
        _options = options;
        _clusterSize = clusterSize;
        _time = time;
        _random = random;
        _logger = logger;
    }

    /// <summary>Completed syncs.</summary>
    public long Syncs => Interlocked.Read(ref _syncs);

    /// <summary>Complete while the loop waits for work with its timer set (so a test may move the clock), renewed when it wakes.</summary>
    public Task Idle => Volatile.Read(ref _idle).Task;

    /// <summary>Completes when the loop next finishes a sync attempt.</summary>
    public Task Turned => _turned.Next;

    /// <summary>Starts the loop: a full sync at once, then on every request and periodically.</summary>
    public void Start() => _loop = Task.Run(() => RunAsync(_stopping.Token));

    /// <summary>Asks for a sync of the changes made so far.</summary>
    public void Request()
    {
        lock (_gate)
        {
            _requested++;
            _wake.TrySetResult();
        }
    }

    /// <summary>Asks for a full sync (compare with the catalog) at the next turn.</summary>
    public void RequestFull()
    {
        lock (_gate)
        {
            _fullRequested = true;
            _requested++;
            _wake.TrySetResult();
        }
    }

    /// <summary>Waits (bounded by <see cref="LocalAgentOptions.RegisterWait"/>) for a sync that includes every request made so far; its failure is not the caller's.</summary>
    public async Task AwaitSyncAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource done;
        lock (_gate)
        {
            if (_synced >= _requested || _loop.IsCompleted)
            {
                return;
            }

            done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((_requested, done));
        }

        try
        {
            await done.Task.WaitAsync(_options.RegisterWait, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Local state holds the change; anti-entropy keeps trying.
        }
    }

    /// <summary>The full-sync interval for a cluster of <paramref name="nodes"/>: Consul's scale, one more step per doubling beyond 128.</summary>
    public static TimeSpan ScaledInterval(TimeSpan interval, int nodes)
    {
        const int threshold = 128;
        if (nodes <= threshold)
        {
            return interval;
        }

        var multiplier = Math.Ceiling(Math.Log2(nodes) - Math.Log2(threshold)) + 1.0;
        return interval * multiplier;
    }

    private TimeSpan NextFullDelay()
    {
        var scaled = ScaledInterval(_options.SyncInterval, _clusterSize());
        lock (_random)
        {
            // Staggered: a random point in [interval/2, interval*1.5), so agents started together spread out.
            return TimeSpan.FromMilliseconds(Math.Ceiling(((scaled / 2) + (scaled * _random.NextDouble())).TotalMilliseconds));
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var nextFull = _time.GetUtcNow();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                Task wake;
                lock (_gate)
                {
                    wake = _synced < _requested || _fullRequested ? Task.CompletedTask : _wake.Task;
                }

                // Timers count whole milliseconds (a shorter delay completes at once), so anything closer is due now.
                var due = nextFull - _time.GetUtcNow();
                if (due >= TimeSpan.FromMilliseconds(1) && !wake.IsCompleted)
                {
                    var timer = Task.Delay(due, _time, cancellationToken);
                    _idle.TrySetResult();
                    await Task.WhenAny(wake, timer);
                    Volatile.Write(ref _idle, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                }

                cancellationToken.ThrowIfCancellationRequested();
                long generation;
                bool full;
                lock (_gate)
                {
                    generation = _requested;
                    full = _fullRequested || nextFull - _time.GetUtcNow() < TimeSpan.FromMilliseconds(1);
                    _fullRequested = false;
                    if (_wake.Task.IsCompleted)
                    {
                        _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    }
                }

                try
                {
                    if (full)
                    {
                        await _full(cancellationToken);
                        nextFull = _time.GetUtcNow() + NextFullDelay();
                    }

                    await _changes(cancellationToken);
                    Interlocked.Increment(ref _syncs);
                }
                catch (Exception e) when (e is NoLeaderException or global::Grpc.Core.RpcException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
                {
                    LogSyncFailed(_logger, e.Message);
                    nextFull = _time.GetUtcNow() + _options.RetryInterval;
                }

                _turned.Fire();
                lock (_gate)
                {
                    _synced = Math.Max(_synced, generation);
                    foreach (var waiter in _waiters.Where(w => w.Generation <= generation).ToList())
                    {
                        waiter.Done.TrySetResult();
                        _waiters.Remove(waiter);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            lock (_gate)
            {
                foreach (var waiter in _waiters)
                {
                    waiter.Done.TrySetResult();
                }

                _waiters.Clear();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
        }

        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "anti-entropy sync failed, retrying: {Reason}")]
    private static partial void LogSyncFailed(ILogger logger, string reason);
}
