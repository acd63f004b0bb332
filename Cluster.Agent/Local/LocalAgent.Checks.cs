using Cluster.Agent.Config;
using Cluster.Contracts.State;
using Microsoft.Extensions.Logging;

namespace Cluster.Agent.Local;

/// <summary>What runs one check (an HTTP, TCP, gRPC, script or alias monitor): made, then started once registered.</summary>
public interface ICheckRunner : IAsyncDisposable
{
    void Start();
}

/// <summary>
/// Makes the runner of a check of <paramref name="definition"/>'s kind that reports its results
/// (status, output) to <paramref name="report"/>; null for none. Throws <see cref="ArgumentException"/>
/// for a definition that cannot run.
/// </summary>
public delegate ICheckRunner? CheckRunnerFactory(string checkId, CheckDefinition definition, Action<string, string> report);

/// <summary>
/// The checks' lives: TTL timers, the runners for every other kind (made by
/// <see cref="LocalAgent.RunnerFactory"/>), DeregisterCriticalServiceAfter, and maintenance mode.
/// </summary>
public sealed partial class LocalAgent
{
    private readonly Dictionary<string, ITimer> _ttlTimers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ICheckRunner> _runners = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ITimer> _reapTimers = new(StringComparer.Ordinal);

    /// <summary>Makes the runners of HTTP, TCP, gRPC, script and alias checks (set before anything registers).</summary>
    public CheckRunnerFactory? RunnerFactory { get; init; }

    /// <summary>Node maintenance: a critical check that takes every service on this node out of rotation.</summary>
    public Task SetNodeMaintenanceAsync(bool enable, string? reason, CancellationToken cancellationToken) =>
        SetMaintenanceAsync(NodeMaintenanceId, null, enable, reason, "Node Maintenance Mode", "node", cancellationToken);

    /// <summary>Service maintenance: a critical check on one service.</summary>
    public Task SetServiceMaintenanceAsync(string serviceId, bool enable, string? reason, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_services.TryGetValue(serviceId, out var service) || service.Deleted)
            {
                throw new KeyNotFoundException($"No service registered with ID \"{serviceId}\"");
            }
        }

        return SetMaintenanceAsync(ServiceMaintenancePrefix + serviceId, serviceId, enable, reason, "Service Maintenance Mode", "service", cancellationToken);
    }

    private async Task SetMaintenanceAsync(string id, string? serviceId, bool enable, string? reason, string name, string what, CancellationToken cancellationToken)
    {
        if (!enable)
        {
            await DeregisterCheckAsync(id, cancellationToken);
            return;
        }

        var check = new Check
        {
            Id = id,
            Name = name,
            Status = "critical",
            Notes = reason is { Length: > 0 } ? reason : $"Maintenance mode is enabled for this {what}, but no reason was provided. This is a default message.",
            ServiceId = serviceId ?? "",
            Type = "maintenance",
        };
        await RegisterCheckAsync(new LocalCheckSpec(check, new CheckDefinition { Id = id, Name = name }), cancellationToken);
    }

    /// <summary>Makes the runners for <paramref name="specs"/>; if one cannot run, none is kept and the error says which.</summary>
    private List<RunnerSlot> Prepare(IReadOnlyList<LocalCheckSpec> specs)
    {
        var slots = new List<RunnerSlot>(specs.Count);
        try
        {
            foreach (var spec in specs)
            {
                var slot = new RunnerSlot();
                var id = spec.Check.Id.Length > 0 ? spec.Check.Id : spec.Check.Name;
                if (spec.Definition.Kind != CheckKind.Ttl && RunnerFactory is { } factory)
                {
                    slot.Runner = factory(id, spec.Definition with { Id = id }, (status, output) => Report(id, slot, status, output));
                }

                slots.Add(slot);
            }
        }
        catch
        {
            foreach (var slot in slots)
            {
                slot.Discard();
            }

            throw;
        }

        return slots;
    }

    private void StartRunnerLocked(string id)
    {
        var local = _checks[id];
        if (local.Definition.Kind == CheckKind.Ttl)
        {
            if (local.Definition.Ttl is { } ttl)
            {
                RestartTtlLocked(id, ttl);
            }

            return;
        }

        if (local.Slot?.Runner is { } runner)
        {
            _runners[id] = runner;
            runner.Start();
        }
    }

    /// <summary>A runner's result, ignored once its check was replaced or removed.</summary>
    private void Report(string id, RunnerSlot slot, string status, string output)
    {
        lock (_gate)
        {
            if (_checks.TryGetValue(id, out var current) && !current.Deleted && ReferenceEquals(current.Slot, slot))
            {
                SetStatusLocked(id, status, output);
            }
        }
    }

    private void StopRunnerLocked(string id)
    {
        if (_ttlTimers.Remove(id, out var timer))
        {
            timer.Dispose();
        }

        if (_reapTimers.Remove(id, out var reap))
        {
            reap.Dispose();
        }

        if (_runners.Remove(id, out var runner))
        {
            _ = runner.DisposeAsync().AsTask();
        }
    }

    private void RestartTtlLocked(string id, TimeSpan ttl)
    {
        if (_ttlTimers.Remove(id, out var old))
        {
            old.Dispose();
        }

        _ttlTimers[id] = _time.CreateTimer(_ => ExpireTtl(id), null, ttl, Timeout.InfiniteTimeSpan);
    }

    private void ExpireTtl(string id)
    {
        lock (_gate)
        {
            if (_checks.TryGetValue(id, out var local) && !local.Deleted)
            {
                SetStatusLocked(id, "critical", $"TTL expired (last output before timeout follows): {local.Check.Output}");
            }
        }
    }

    /// <summary>DeregisterCriticalServiceAfter: a timer from when the check turned critical; any other status cancels it.</summary>
    private void ScheduleReapLocked(string id)
    {
        var local = _checks[id];
        if (local.Definition.DeregisterCriticalServiceAfter is not { } after || local.Check.ServiceId.Length == 0)
        {
            return;
        }

        if (local.CriticalSince is not { } since)
        {
            if (_reapTimers.Remove(id, out var cancelled))
            {
                cancelled.Dispose();
            }

            return;
        }

        if (_reapTimers.ContainsKey(id))
        {
            return;
        }

        var due = since + after - _time.GetUtcNow();
        var serviceId = local.Check.ServiceId;
        _reapTimers[id] = _time.CreateTimer(_ => _ = ReapAsync(id, serviceId), null, due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
    }

    private async Task ReapAsync(string checkId, string serviceId)
    {
        lock (_gate)
        {
            if (!_checks.TryGetValue(checkId, out var local) || local.Deleted || local.CriticalSince is null)
            {
                return;
            }
        }

        LogReaped(_logger, serviceId, checkId);
        await DeregisterServiceAsync(serviceId, CancellationToken.None);
    }

    /// <summary>A check's runner between being made and being dropped; identifies its reports.</summary>
    private sealed class RunnerSlot
    {
        public ICheckRunner? Runner { get; set; }

        /// <summary>Drops a runner that never started.</summary>
        public void Discard()
        {
            if (Runner is { } runner)
            {
                _ = runner.DisposeAsync().AsTask();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "removed service {ServiceId}: check {CheckId} was critical longer than its DeregisterCriticalServiceAfter")]
    private static partial void LogReaped(ILogger logger, string serviceId, string checkId);
}
