using Cluster.Server.Nodes;
using Cluster.Contracts.State;
using Microsoft.Extensions.Logging;

namespace Cluster.Agent.Local;

/// <summary>
/// Anti-entropy's two steps over local state, run by <see cref="AntiEntropyLoop"/>: a full sync
/// reads the catalog's view of this node and marks whatever differs (<see cref="AntiEntropy.Compare"/>);
/// a push sends what is out of sync (<see cref="AntiEntropy.Plan"/>).
/// </summary>
public sealed partial class LocalAgent
{
    private bool _nodeInSync;
    private long _writes;

    /// <summary>Completed syncs and how many writes they sent (for tests and benchmarks).</summary>
    public (long Syncs, long Writes) SyncStats => (_sync.Syncs, Interlocked.Read(ref _writes));

    /// <summary>Complete while the loop waits for work with its timer set (so a test may move the clock), renewed when it wakes.</summary>
    internal Task Idle => _sync.Idle;

    /// <summary>Completes once a sync attempt has covered every local change made so far.</summary>
    internal Task SettledAsync() => _sync.AwaitSyncAsync(CancellationToken.None);

    /// <summary>Completes when the loop next finishes a sync attempt.</summary>
    internal Task Turned => _sync.Turned;

    /// <summary>Starts anti-entropy: a full sync at once, then on every change and periodically.</summary>
    public void StartSync() => _sync.Start();

    /// <summary>Compare with the catalog at the next turn (e.g. when servers come back).</summary>
    public void TriggerFullSync() => _sync.RequestFull();

    /// <summary>The full-sync interval for a cluster of <paramref name="nodes"/> (<see cref="AntiEntropyLoop.ScaledInterval"/>).</summary>
    public static TimeSpan ScaledInterval(TimeSpan interval, int nodes) => AntiEntropyLoop.ScaledInterval(interval, nodes);

    private void RequestSyncLocked() => _sync.Request();

    private Task AwaitSyncAsync(CancellationToken cancellationToken) => _sync.AwaitSyncAsync(cancellationToken);

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

    [LoggerMessage(Level = LogLevel.Error, Message = "the catalog refused this agent's registration: {Reason}")]
    private static partial void LogSyncRefused(ILogger logger, string reason);
}
