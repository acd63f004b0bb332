using Cluster.Server.Wire;

namespace Cluster.Server.Agent;

/// <summary>A check this agent owns: the catalog's view plus, for TTL checks, when it expires.</summary>
internal sealed record LocalCheck(Check Check, TimeSpan? Ttl, TimeSpan? DeregisterCriticalAfter);

/// <summary>
/// The services and checks registered with this agent (/v1/agent/...). Local state is the
/// source of truth: every change is written to the catalog at once, and TTL checks turn critical
/// here when their TTL runs out. (Client agents with periodic anti-entropy and the other check
/// kinds build on this.)
/// </summary>
public sealed class LocalAgent : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Service> _services = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LocalCheck> _checks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ITimer> _ttlTimers = new(StringComparer.Ordinal);
    private readonly Func<Command, CancellationToken, Task> _apply;
    private readonly TimeProvider _time;

    public LocalAgent(string nodeName, Func<string> address, Func<Command, CancellationToken, Task> apply, TimeProvider time)
    {
        NodeName = nodeName;
        Address = address;
        _apply = apply;
        _time = time;
    }

    public string NodeName { get; }

    public Func<string> Address { get; }

    /// <summary>Bumped on every local change, for ?hash blocking on agent endpoints.</summary>
    public long Version { get; private set; }

    public IReadOnlyList<Service> Services
    {
        get
        {
            lock (_gate)
            {
                return [.. _services.Values.OrderBy(s => s.Id, StringComparer.Ordinal)];
            }
        }
    }

    public IReadOnlyList<Check> Checks
    {
        get
        {
            lock (_gate)
            {
                return [.. _checks.Values.Select(c => c.Check).OrderBy(c => c.Id, StringComparer.Ordinal)];
            }
        }
    }

    public async Task RegisterServiceAsync(Service service, IReadOnlyList<(Check Check, TimeSpan? Ttl)> checks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(checks);
        var register = NewRegister();
        register.Service = service.Clone();
        register.Service.Node = NodeName;
        lock (_gate)
        {
            _services[service.Id] = service.Clone();
            foreach (var (check, ttl) in checks)
            {
                var stored = Owned(check, service);
                register.Checks.Add(stored);
                Track(stored, ttl);
            }

            Version++;
        }

        await _apply(new Command { Register = register }, cancellationToken);
    }

    public async Task<bool> DeregisterServiceAsync(string id, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_services.Remove(id))
            {
                return false;
            }

            foreach (var check in _checks.Values.Where(c => c.Check.ServiceId == id).ToList())
            {
                Untrack(check.Check.Id);
            }

            Version++;
        }

        await _apply(new Command { Deregister = new Deregister { Node = NodeName, ServiceId = id } }, cancellationToken);
        return true;
    }

    public async Task RegisterCheckAsync(Check check, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(check);
        Check stored;
        lock (_gate)
        {
            Service? service = null;
            if (check.ServiceId.Length > 0 && !_services.TryGetValue(check.ServiceId, out service))
            {
                throw new KeyNotFoundException($"ServiceID \"{check.ServiceId}\" does not exist");
            }

            stored = Owned(check, service);
            Track(stored, ttl);
            Version++;
        }

        var register = NewRegister();
        register.Checks.Add(stored);
        await _apply(new Command { Register = register }, cancellationToken);
    }

    public async Task<bool> DeregisterCheckAsync(string id, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_checks.ContainsKey(id))
            {
                return false;
            }

            Untrack(id);
            Version++;
        }

        await _apply(new Command { Deregister = new Deregister { Node = NodeName, CheckId = id } }, cancellationToken);
        return true;
    }

    /// <summary>A TTL check's status from its application (pass/warn/fail/update): restarts its TTL.</summary>
    public async Task UpdateTtlAsync(string id, string status, string output, CancellationToken cancellationToken)
    {
        Check updated;
        lock (_gate)
        {
            if (!_checks.TryGetValue(id, out var local))
            {
                throw new KeyNotFoundException($"Unknown check ID \"{id}\". Ensure that the check ID is passed, not the check name.");
            }

            if (local.Ttl is not { } ttl)
            {
                throw new InvalidOperationException($"CheckID \"{id}\" does not have associated TTL");
            }

            updated = local.Check.Clone();
            updated.Status = status;
            updated.Output = output.Length > 4096 ? output[..4096] : output; // bounded, as Consul's 4 KiB default
            _checks[id] = local with { Check = updated };
            RestartTimer(id, ttl);
            Version++;
        }

        var register = NewRegister();
        register.Checks.Add(updated);
        await _apply(new Command { Register = register }, cancellationToken);
    }

    private Register NewRegister() => new()
    {
        Node = new Node { Name = NodeName, Address = Address() },
        SkipNodeUpdate = true,
    };

    private Check Owned(Check check, Service? service)
    {
        var stored = check.Clone();
        stored.Node = NodeName;
        if (stored.Status.Length == 0)
        {
            stored.Status = "critical";
        }

        if (service is not null)
        {
            stored.ServiceId = service.Id;
            stored.ServiceName = service.Name;
        }

        return stored;
    }

    private void Track(Check check, TimeSpan? ttl)
    {
        _checks[check.Id] = new LocalCheck(check, ttl, null);
        if (ttl is { } t)
        {
            RestartTimer(check.Id, t);
        }
        else if (_ttlTimers.Remove(check.Id, out var old))
        {
            old.Dispose();
        }
    }

    private void Untrack(string id)
    {
        _checks.Remove(id);
        if (_ttlTimers.Remove(id, out var timer))
        {
            timer.Dispose();
        }
    }

    private void RestartTimer(string id, TimeSpan ttl)
    {
        if (_ttlTimers.Remove(id, out var old))
        {
            old.Dispose();
        }

        _ttlTimers[id] = _time.CreateTimer(_ => _ = ExpireAsync(id), null, ttl, Timeout.InfiniteTimeSpan);
    }

    private async Task ExpireAsync(string id)
    {
        Check expired;
        lock (_gate)
        {
            if (!_checks.TryGetValue(id, out var local))
            {
                return;
            }

            expired = local.Check.Clone();
            expired.Status = "critical";
            expired.Output = $"TTL expired (last output before timeout follows): {local.Check.Output}";
            _checks[id] = local with { Check = expired };
            Version++;
        }

        var register = NewRegister();
        register.Checks.Add(expired);
        try
        {
            await _apply(new Command { Register = register }, CancellationToken.None);
        }
        catch (Exception e) when (e is Core.NoLeaderException or OperationCanceledException or Grpc.RpcException)
        {
            // The catalog catches up at the next change; anti-entropy (client agents) makes this periodic.
        }
    }

    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            foreach (var timer in _ttlTimers.Values)
            {
                timer.Dispose();
            }

            _ttlTimers.Clear();
        }

        return ValueTask.CompletedTask;
    }
}
