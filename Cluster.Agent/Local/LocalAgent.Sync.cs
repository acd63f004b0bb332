using Cluster.Primitives;
using Cluster.Server.Nodes;
using Cluster.Contracts.State;
using Microsoft.Extensions.Logging;

namespace Cluster.Agent.Local;

/// <summary>
/// Anti-entropy. One loop pushes out-of-sync entries as soon as a change asks for it, and every
/// full-sync interval (scaled with the cluster, staggered) reads the catalog's view of this node
/// and marks whatever differs: entries the agent does not know are removed, entries it knows are
/// registered again. A failed sync is retried soon; every change wakes the loop at once.
/// </summary>
public sealed partial class LocalAgent
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<(long Generation, TaskCompletionSource Done)> _waiters = [];
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _syncLoop = Task.CompletedTask;
    private bool _fullRequested = true;
    private bool _nodeInSync;
    private long _requested;
    private long _synced;

    /// <summary>Completed syncs and how many writes they sent (for tests and benchmarks).</summary>
    public (long Syncs, long Writes) SyncStats => (Interlocked.Read(ref _syncs), Interlocked.Read(ref _writes));

    private long _syncs;
    private long _writes;
    private TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ChangeSignal _turned = new();

    /// <summary>Complete while the loop waits for work with its timer set (so a test may move the clock), renewed when it wakes.</summary>
    internal Task Idle => Volatile.Read(ref _idle).Task;

    /// <summary>Completes once a sync attempt has covered every local change made so far.</summary>
    internal Task SettledAsync() => AwaitSyncAsync(CancellationToken.None);

    /// <summary>Completes when the loop next finishes a sync attempt.</summary>
    internal Task Turned => _turned.Next;

    /// <summary>Starts anti-entropy: a full sync at once, then on every change and periodically.</summary>
    public void StartSync() => _syncLoop = Task.Run(() => SyncLoopAsync(_stopping.Token));

    /// <summary>Compare with the catalog at the next turn (e.g. when servers come back).</summary>
    public void TriggerFullSync()
    {
        lock (_gate)
        {
            _fullRequested = true;
            RequestSyncLocked();
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

    private void RequestSyncLocked()
    {
        _requested++;
        _wake.TrySetResult();
    }

    /// <summary>Waits (bounded) for a sync that includes every change made so far; its failure is not the caller's.</summary>
    private async Task AwaitSyncAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource done;
        lock (_gate)
        {
            if (_synced >= _requested || _syncLoop.IsCompleted)
            {
                return;
            }

            done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((_requested, done));
        }

        try
        {
            await done.Task.WaitAsync(Options.RegisterWait, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Local state holds the change; anti-entropy keeps trying.
        }
    }

    private TimeSpan NextFullDelay()
    {
        var scaled = ScaledInterval(Options.SyncInterval, _clusterSize());
        lock (_random)
        {
            // Staggered: a random point in [interval/2, interval*1.5), so agents started together spread out.
            return TimeSpan.FromMilliseconds(Math.Ceiling(((scaled / 2) + (scaled * _random.NextDouble())).TotalMilliseconds));
        }
    }

    private async Task SyncLoopAsync(CancellationToken cancellationToken)
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
                        await SyncFullAsync(cancellationToken);
                        nextFull = _time.GetUtcNow() + NextFullDelay();
                    }

                    await SyncChangesAsync(cancellationToken);
                    Interlocked.Increment(ref _syncs);
                }
                catch (Exception e) when (e is NoLeaderException or global::Grpc.Core.RpcException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
                {
                    LogSyncFailed(_logger, e.Message);
                    lock (_gate)
                    {
                        _fullRequested = false;
                    }

                    nextFull = _time.GetUtcNow() + Options.RetryInterval;
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

    /// <summary>Reads the catalog's view of this node and marks every difference out of sync (<see cref="AntiEntropy.Compare"/>).</summary>
    private async Task SyncFullAsync(CancellationToken cancellationToken)
    {
        var remote = await _servers.NodeStateAsync(NodeName, Consistency.Default, cancellationToken);
        lock (_gate)
        {
            var marks = AntiEntropy.Compare(Self(), SyncServices(), SyncChecks(), remote);
            _nodeInSync = marks.NodeInSync;
            foreach (var (id, mark) in marks.Services)
            {
                if (mark == SyncMark.Forget)
                {
                    _services.Remove(id);
                }
                else
                {
                    _services[id] = mark == SyncMark.RemoveRemote
                        ? new LocalService(remote.Services.First(s => s.Id == id), LocalSource.Api, InSync: false, Deleted: true)
                        : _services[id] with { InSync = mark == SyncMark.InSync };
                }
            }

            foreach (var (id, mark) in marks.Checks)
            {
                if (mark == SyncMark.Forget)
                {
                    _checks.Remove(id);
                }
                else
                {
                    _checks[id] = mark == SyncMark.RemoveRemote
                        ? RemoteOnly(remote.Checks.First(c => c.Id == id))
                        : _checks[id] with { InSync = mark == SyncMark.InSync };
                }
            }
        }
    }

    private static LocalCheck RemoteOnly(Check check) =>
        new(check, new Cluster.Agent.Config.CheckDefinition { Name = check.Name }, LocalSource.Api, InSync: false, Deleted: true, CriticalSince: null);

    /// <summary>Pushes every out-of-sync entry as <see cref="AntiEntropy.Plan"/> orders it; an entry changed meanwhile stays out of sync.</summary>
    private async Task SyncChangesAsync(CancellationToken cancellationToken)
    {
        Dictionary<string, LocalService> services;
        Dictionary<string, LocalCheck> checks;
        SyncPlan plan;
        lock (_gate)
        {
            services = new(_services, StringComparer.Ordinal);
            checks = new(_checks, StringComparer.Ordinal);
            plan = AntiEntropy.Plan(Self(), _nodeInSync, SyncServices(), SyncChecks());
        }

        foreach (var step in plan.Steps)
        {
            await ConcurrentlyAsync(step, async (write, token) =>
            {
                await SendAsync(write.Command, token);
                lock (_gate)
                {
                    if (ReferenceEquals(write, plan.Node))
                    {
                        _nodeInSync = true;
                    }

                    // Settled only if unchanged since the plan: a newer change has its own turn coming.
                    foreach (var id in write.Services)
                    {
                        Settle(_services, id, services[id], s => s.Deleted, s => s with { InSync = true });
                    }

                    foreach (var id in write.Checks)
                    {
                        Settle(_checks, id, checks[id], c => c.Deleted, c => c with { InSync = true });
                    }
                }
            }, cancellationToken);
        }
    }

    /// <summary>A written entry: a removal is forgotten, a registration marked in sync, if it is still what was written.</summary>
    private static void Settle<T>(Dictionary<string, T> entries, string id, T written, Func<T, bool> deleted, Func<T, T> inSync)
        where T : class
    {
        if (entries.TryGetValue(id, out var now) && ReferenceEquals(now, written))
        {
            if (deleted(now))
            {
                entries.Remove(id);
            }
            else
            {
                entries[id] = inSync(now);
            }
        }
    }

    private SyncNode Self() => new(NodeName, _node.NodeId, _node.Datacenter, _address(), _node.IsServer);

    private Dictionary<string, SyncEntry<Service>> SyncServices() =>
        _services.ToDictionary(s => s.Key, s => new SyncEntry<Service>(s.Value.Service, s.Value.InSync, s.Value.Deleted), StringComparer.Ordinal);

    private Dictionary<string, SyncEntry<Check>> SyncChecks() =>
        _checks.ToDictionary(c => c.Key, c => new SyncEntry<Check>(c.Value.Check, c.Value.InSync, c.Value.Deleted), StringComparer.Ordinal);

    /// <summary>
    /// Sends up to <see cref="SyncConcurrency"/> writes at once: the leader batches concurrent
    /// proposals into one log write, so 1,000 services sync in a few fsyncs rather than 1,000.
    /// </summary>
    private static Task ConcurrentlyAsync<T>(IEnumerable<T> items, Func<T, CancellationToken, ValueTask> send, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(items.ToList(), new ParallelOptions { MaxDegreeOfParallelism = SyncConcurrency, CancellationToken = cancellationToken }, send);

    private const int SyncConcurrency = 32;

    private async Task SendAsync(Command command, CancellationToken cancellationToken)
    {
        var (_, result) = await _servers.ApplyAsync(command, cancellationToken);
        Interlocked.Increment(ref _writes);
        if (result.Refused.Length > 0)
        {
            // The store refused it (validation): retrying cannot help; say so and leave it be.
            LogSyncRefused(_logger, result.Refused);
        }
    }

    private async Task StopSyncAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await _syncLoop.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
        }

        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "anti-entropy sync failed, retrying: {Reason}")]
    private static partial void LogSyncFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "the catalog refused this agent's registration: {Reason}")]
    private static partial void LogSyncRefused(ILogger logger, string reason);
}
