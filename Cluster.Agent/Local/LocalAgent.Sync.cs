using Cluster.Server.Core;
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
    private TaskCompletionSource _turned = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Complete while the loop waits for work with its timer set (so a test may move the clock), renewed when it wakes.</summary>
    internal Task Idle => Volatile.Read(ref _idle).Task;

    /// <summary>Completes once a sync attempt has covered every local change made so far.</summary>
    internal Task SettledAsync() => AwaitSyncAsync(CancellationToken.None);

    /// <summary>Completes when the loop next finishes a sync attempt.</summary>
    internal Task Turned => Volatile.Read(ref _turned).Task;

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

                Interlocked.Exchange(ref _turned, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
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

    /// <summary>Reads the catalog's view of this node and marks every difference out of sync.</summary>
    private async Task SyncFullAsync(CancellationToken cancellationToken)
    {
        var remote = await _servers.NodeStateAsync(NodeName, Consistency.Default, cancellationToken);
        lock (_gate)
        {
            _nodeInSync = remote.Node is { } node && node.Address == _address() && node.Id == _node.NodeId;
            var remoteServices = remote.Services.ToDictionary(s => s.Id, StringComparer.Ordinal);
            foreach (var (id, service) in remoteServices)
            {
                if (_node.IsServer && id == "consul")
                {
                    continue; // the leader owns the servers' consul service
                }

                if (!_services.TryGetValue(id, out var local))
                {
                    _services[id] = new LocalService(service, LocalSource.Api, InSync: false, Deleted: true);
                }
                else if (!local.Deleted)
                {
                    _services[id] = local with { InSync = SameService(local.Service, service) };
                }
            }

            foreach (var (id, local) in _services.ToList())
            {
                if (!remoteServices.ContainsKey(id))
                {
                    if (local.Deleted)
                    {
                        _services.Remove(id);
                    }
                    else
                    {
                        _services[id] = local with { InSync = false };
                    }
                }
            }

            var remoteChecks = remote.Checks.ToDictionary(c => c.Id, StringComparer.Ordinal);
            foreach (var (id, check) in remoteChecks)
            {
                if (id == ServerNode.SerfCheckId)
                {
                    continue; // the leader owns serfHealth
                }

                if (!_checks.TryGetValue(id, out var local))
                {
                    _checks[id] = new LocalCheck(check, new Cluster.Agent.Config.CheckDefinition { Name = check.Name }, LocalSource.Api, InSync: false, Deleted: true, CriticalSince: null);
                }
                else if (!local.Deleted)
                {
                    _checks[id] = local with { InSync = SameCheck(local.Check, check) };
                }
            }

            foreach (var (id, local) in _checks.ToList())
            {
                if (!remoteChecks.ContainsKey(id))
                {
                    if (local.Deleted)
                    {
                        _checks.Remove(id);
                    }
                    else
                    {
                        _checks[id] = local with { InSync = false };
                    }
                }
            }
        }
    }

    /// <summary>Pushes every out-of-sync entry: removals first, then services with their checks, then lone checks.</summary>
    private async Task SyncChangesAsync(CancellationToken cancellationToken)
    {
        List<(string Id, LocalService Local)> services;
        List<(string Id, LocalCheck Local)> checks;
        bool nodeInSync;
        lock (_gate)
        {
            services = [.. _services.Where(s => !s.Value.InSync).Select(s => (s.Key, s.Value))];
            checks = [.. _checks.Where(c => !c.Value.InSync).Select(c => (c.Key, c.Value))];
            nodeInSync = _nodeInSync;
        }

        if (!nodeInSync)
        {
            await SendAsync(new Command { Register = NewRegister(skipNode: false) }, cancellationToken);
            lock (_gate)
            {
                _nodeInSync = true;
            }
        }

        await ConcurrentlyAsync(services.Where(s => s.Local.Deleted), async (entry, token) =>
        {
            var (id, local) = entry;
            await SendAsync(new Command { Deregister = new Deregister { Node = NodeName, ServiceId = id } }, token);
            lock (_gate)
            {
                if (_services.TryGetValue(id, out var now) && ReferenceEquals(now, local))
                {
                    _services.Remove(id);
                }
            }
        }, cancellationToken);

        await ConcurrentlyAsync(checks.Where(c => c.Local.Deleted), async (entry, token) =>
        {
            var (id, local) = entry;
            await SendAsync(new Command { Deregister = new Deregister { Node = NodeName, CheckId = id } }, token);
            lock (_gate)
            {
                if (_checks.TryGetValue(id, out var now) && ReferenceEquals(now, local))
                {
                    _checks.Remove(id);
                }
            }
        }, cancellationToken);

        var sentChecks = new HashSet<string>(StringComparer.Ordinal);
        await ConcurrentlyAsync(services.Where(s => !s.Local.Deleted), async (entry, token) =>
        {
            // A service goes with all its checks, so the catalog never shows it without them.
            var (id, local) = entry;
            var register = NewRegister(skipNode: true);
            register.Service = local.Service.Clone();
            List<(string Id, LocalCheck Local)> own;
            lock (_gate)
            {
                own = [.. _checks.Where(c => !c.Value.Deleted && c.Value.Check.ServiceId == id).Select(c => (c.Key, c.Value))];
            }

            register.Checks.Add(own.Select(c => c.Local.Check.Clone()));
            await SendAsync(new Command { Register = register }, token);
            lock (_gate)
            {
                if (_services.TryGetValue(id, out var now) && ReferenceEquals(now, local))
                {
                    _services[id] = local with { InSync = true };
                }

                foreach (var (checkId, check) in own)
                {
                    sentChecks.Add(checkId);
                    if (_checks.TryGetValue(checkId, out var current) && ReferenceEquals(current, check))
                    {
                        _checks[checkId] = check with { InSync = true };
                    }
                }
            }
        }, cancellationToken);

        await ConcurrentlyAsync(checks.Where(c => !c.Local.Deleted && !sentChecks.Contains(c.Id)), async (entry, token) =>
        {
            var (id, local) = entry;
            var register = NewRegister(skipNode: true);
            register.Checks.Add(local.Check.Clone());
            await SendAsync(new Command { Register = register }, token);
            lock (_gate)
            {
                if (_checks.TryGetValue(id, out var now) && ReferenceEquals(now, local))
                {
                    _checks[id] = local with { InSync = true };
                }
            }
        }, cancellationToken);
    }

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

    private Register NewRegister(bool skipNode)
    {
        var address = _address();
        var node = new Node { Id = _node.NodeId, Name = NodeName, Address = address, Datacenter = _node.Datacenter };
        node.TaggedAddresses["lan"] = address;
        node.TaggedAddresses["wan"] = address;
        return new Register { Node = node, SkipNodeUpdate = skipNode };
    }

    private bool SameService(Service local, Service remote)
    {
        var a = local.Clone();
        var b = remote.Clone();
        a.Node = b.Node = NodeName;
        a.CreateIndex = a.ModifyIndex = b.CreateIndex = b.ModifyIndex = 0;
        return a.Equals(b);
    }

    private bool SameCheck(Check local, Check remote)
    {
        var a = local.Clone();
        var b = remote.Clone();
        a.Node = b.Node = NodeName;
        a.CreateIndex = a.ModifyIndex = b.CreateIndex = b.ModifyIndex = 0;
        a.ServiceTags.Clear();
        b.ServiceTags.Clear();
        return a.Equals(b);
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
