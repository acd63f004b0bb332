using Cluster.Agent.Config;
using Cluster.Primitives;
using Cluster.Server.Nodes;
using Cluster.Contracts.State;
using Microsoft.Extensions.Logging;

namespace Cluster.Agent.Local;

/// <summary>Where a service or check came from: the HTTP API, or the configuration files (replaced on reload).</summary>
public enum LocalSource
{
    Api,
    Config,
}

/// <summary>A check to register: the catalog's view and the definition that says how it runs.</summary>
public sealed record LocalCheckSpec(Check Check, CheckDefinition Definition);

/// <summary>Who the agent is: the node it registers, and whether it is a server (whose consul service the leader owns).</summary>
public sealed record AgentIdentity(string NodeName, string NodeId, string Datacenter, bool IsServer)
{
    public static AgentIdentity Of(IAgentNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return new(node.NodeName, node.NodeId, node.Datacenter, node.IsServer);
    }
}

/// <summary>How the agent keeps its services and checks.</summary>
public sealed record LocalAgentOptions
{
    /// <summary>The anti-entropy full-sync interval at up to 128 nodes (Consul's 1 minute); it grows with the cluster.</summary>
    public TimeSpan SyncInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>After a failed sync, the next attempt comes this soon.</summary>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a registration waits for its sync before answering anyway (local state holds; sync retries).</summary>
    public TimeSpan RegisterWait { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Check output is cut at this many bytes (Consul's 4 KiB default).</summary>
    public int MaxOutput { get; init; } = 4096;

    public bool EnableScriptChecks { get; init; }
}

/// <summary>
/// The services and checks registered with this agent. Local state is authoritative: every
/// change is marked out of sync and pushed to the catalog at once, and a periodic full sync
/// (<c>LocalAgent.Sync.cs</c>) compares the catalog's view of this node with it, removing what
/// the agent does not know and re-registering what differs. Checks run here
/// (<c>LocalAgent.Checks.cs</c>).
/// </summary>
public sealed partial class LocalAgent : IAsyncDisposable
{
    public const string NodeMaintenanceId = "_node_maintenance";
    public const string ServiceMaintenancePrefix = "_service_maintenance:";

    private readonly object _gate = new();
    private readonly Dictionary<string, LocalService> _services = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LocalCheck> _checks = new(StringComparer.Ordinal);
    private readonly AgentIdentity _node;
    private readonly ICatalogSync _servers;
    private readonly Func<string> _address;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ChangeSignal _changed = new();
    private readonly AntiEntropyLoop _sync;

    /// <summary>The agent of <paramref name="node"/>; <paramref name="clusterSize"/> says how many nodes are alive (the full-sync interval grows with it).</summary>
    public LocalAgent(AgentIdentity node, ICatalogSync servers, Func<int> clusterSize, Func<string> address, LocalAgentOptions options, TimeProvider time, Random random, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(node);
        _node = node;
        _servers = servers;
        _address = address;
        Options = options;
        _time = time;
        _logger = logger;
        _sync = new AntiEntropyLoop(SyncFullAsync, SyncChangesAsync, options, clusterSize, time, random, logger);
    }

    public LocalAgentOptions Options { get; }

    /// <summary>Where API registrations are kept across restarts (null: not kept, as in dev mode).</summary>
    public RegistrationStore? Persisted { get; init; }

    public string NodeName => _node.NodeName;

    /// <summary>Bumped on every local change.</summary>
    public long Version { get; private set; }

    /// <summary>Completes at the next local change (for ?hash blocking on agent endpoints).</summary>
    public Task Changed
    {
        get
        {
            lock (_gate)
            {
                return _changed.Next;
            }
        }
    }

    public IReadOnlyList<Service> Services
    {
        get
        {
            lock (_gate)
            {
                return [.. _services.Values.Where(s => !s.Deleted).Select(s => s.Service).OrderBy(s => s.Id, StringComparer.Ordinal)];
            }
        }
    }

    public IReadOnlyList<Check> Checks
    {
        get
        {
            lock (_gate)
            {
                return [.. _checks.Values.Where(c => !c.Deleted).Select(c => c.Check).OrderBy(c => c.Id, StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>IDs of what came from <paramref name="source"/> (to replace on a config reload).</summary>
    public (IReadOnlyList<string> Services, IReadOnlyList<string> Checks) FromSource(LocalSource source)
    {
        lock (_gate)
        {
            return (
                [.. _services.Values.Where(s => !s.Deleted && s.Source == source).Select(s => s.Service.Id)],
                [.. _checks.Values.Where(c => !c.Deleted && c.Source == source && c.Check.ServiceId.Length == 0).Select(c => c.Check.Id)]);
        }
    }

    public Task RegisterServiceAsync(Service service, IReadOnlyList<LocalCheckSpec> checks, CancellationToken cancellationToken, LocalSource source = LocalSource.Api)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(checks);
        var stored = service.Clone();
        stored.Node = NodeName;
        if (stored.Id.Length == 0)
        {
            stored.Id = stored.Name;
        }

        // Runners are made (and so validated) before anything changes: a bad check refuses the whole registration.
        var slots = Prepare(checks);
        lock (_gate)
        {
            // A re-registration replaces the service's checks: those it no longer lists go.
            foreach (var old in _checks.Values.Where(c => !c.Deleted && c.Check.ServiceId == stored.Id && !checks.Any(n => n.Check.Id == c.Check.Id)).ToList())
            {
                RemoveCheckLocked(old.Check.Id);
            }

            var unchanged = _services.TryGetValue(stored.Id, out var existing) && !existing.Deleted && existing.Service.Equals(stored);
            _services[stored.Id] = new LocalService(stored, source, InSync: unchanged && existing!.InSync, Deleted: false);
            for (var i = 0; i < checks.Count; i++)
            {
                AddCheckLocked(checks[i], stored, source, slots[i]);
            }

            ChangedLocked();
        }

        return AwaitSyncAsync(cancellationToken);
    }

    public async Task<bool> DeregisterServiceAsync(string id, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_services.TryGetValue(id, out var local) || local.Deleted)
            {
                return false;
            }

            foreach (var check in _checks.Values.Where(c => !c.Deleted && c.Check.ServiceId == id).ToList())
            {
                RemoveCheckLocked(check.Check.Id);
            }

            _services[id] = local with { InSync = false, Deleted = true };
            Persisted?.Remove(RegistrationStore.Services, id);
            ChangedLocked();
        }

        await AwaitSyncAsync(cancellationToken);
        return true;
    }

    public Task RegisterCheckAsync(LocalCheckSpec spec, CancellationToken cancellationToken, LocalSource source = LocalSource.Api)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var slot = Prepare([spec])[0];
        lock (_gate)
        {
            LocalService? service = null;
            if (spec.Check.ServiceId.Length > 0 && (!_services.TryGetValue(spec.Check.ServiceId, out service) || service.Deleted))
            {
                slot.Discard();
                throw new KeyNotFoundException($"ServiceID \"{spec.Check.ServiceId}\" does not exist");
            }

            AddCheckLocked(spec, service?.Service, source, slot);
            ChangedLocked();
        }

        return AwaitSyncAsync(cancellationToken);
    }

    public async Task<bool> DeregisterCheckAsync(string id, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_checks.TryGetValue(id, out var local) || local.Deleted)
            {
                return false;
            }

            RemoveCheckLocked(id);
            ChangedLocked();
        }

        await AwaitSyncAsync(cancellationToken);
        return true;
    }

    /// <summary>A TTL check's status from its application (pass/warn/fail/update): restarts its TTL.</summary>
    public Task UpdateTtlAsync(string id, string status, string output, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_checks.TryGetValue(id, out var local) || local.Deleted)
            {
                throw new KeyNotFoundException($"Unknown check ID \"{id}\". Ensure that the check ID is passed, not the check name.");
            }

            if (local.Definition.Ttl is not { } ttl || local.Definition.Kind != CheckKind.Ttl)
            {
                throw new InvalidOperationException($"CheckID \"{id}\" does not have associated TTL");
            }

            SetStatusLocked(id, status, output);
            RestartTtlLocked(id, ttl);
        }

        return AwaitSyncAsync(cancellationToken);
    }

    private void AddCheckLocked(LocalCheckSpec spec, Service? service, LocalSource source, RunnerSlot slot)
    {
        var stored = spec.Check.Clone();
        stored.Node = NodeName;
        if (stored.Id.Length == 0)
        {
            stored.Id = stored.Name;
        }

        if (stored.Status.Length == 0)
        {
            stored.Status = "critical";
        }

        if (service is not null)
        {
            stored.ServiceId = service.Id;
            stored.ServiceName = service.Name;
        }

        if (_checks.TryGetValue(stored.Id, out var existing))
        {
            if (!existing.Deleted && existing.Definition.Equals(spec.Definition) && existing.Check.ServiceId == stored.ServiceId
                && existing.Check.Name == stored.Name && existing.Check.Notes == stored.Notes && existing.Source == source)
            {
                slot.Discard();
                return; // the same check again (a reload, a re-registration): it keeps its status and its runner
            }

            StopRunnerLocked(stored.Id);
        }

        _checks[stored.Id] = new LocalCheck(stored, spec.Definition, source, InSync: false, Deleted: false, CriticalSince: stored.Status == "critical" ? _time.GetUtcNow() : null, slot);
        StartRunnerLocked(stored.Id);
        ScheduleReapLocked(stored.Id);
    }

    private void RemoveCheckLocked(string id)
    {
        StopRunnerLocked(id);
        Persisted?.Remove(RegistrationStore.Checks, id);
        _checks[id] = _checks[id] with { InSync = false, Deleted = true };
    }

    /// <summary>A new status or output from a runner, a TTL update or expiry: out of sync if it differs.</summary>
    private bool SetStatusLocked(string id, string status, string output)
    {
        if (!_checks.TryGetValue(id, out var local) || local.Deleted)
        {
            return false;
        }

        output = Bounded(output);
        if (local.Check.Status == status && local.Check.Output == output)
        {
            return false;
        }

        var updated = local.Check.Clone();
        updated.Status = status;
        updated.Output = output;
        DateTimeOffset? criticalSince = status == "critical" ? local.CriticalSince ?? _time.GetUtcNow() : null;
        _checks[id] = local with { Check = updated, InSync = false, CriticalSince = criticalSince };
        ScheduleReapLocked(id);
        ChangedLocked();
        return true;
    }

    private string Bounded(string output)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(output) <= Options.MaxOutput)
        {
            return output;
        }

        var cut = Math.Min(output.Length, Options.MaxOutput);
        while (cut > 0 && System.Text.Encoding.UTF8.GetByteCount(output.AsSpan(0, cut)) > Options.MaxOutput)
        {
            cut--;
        }

        if (cut > 0 && char.IsHighSurrogate(output[cut - 1]))
        {
            cut--;
        }

        return output[..cut] + " ... (output truncated)";
    }

    private void ChangedLocked()
    {
        Version++;
        _changed.Fire();
        RequestSyncLocked();
    }

    public async ValueTask DisposeAsync()
    {
        await _sync.DisposeAsync();
        lock (_gate)
        {
            foreach (var id in _checks.Keys.ToList())
            {
                StopRunnerLocked(id);
            }
        }
    }

    private sealed record LocalService(Service Service, LocalSource Source, bool InSync, bool Deleted);

    private sealed record LocalCheck(Check Check, CheckDefinition Definition, LocalSource Source, bool InSync, bool Deleted, DateTimeOffset? CriticalSince, RunnerSlot? Slot = null);
}
