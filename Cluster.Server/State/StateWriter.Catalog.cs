using Cluster.Contracts.State;

namespace Cluster.Server.State;

/// <summary>Catalog writes (nodes, services, checks) and what they imply for sessions.</summary>
public sealed partial class StateWriter
{
    public static readonly IReadOnlySet<string> CheckStatuses = new HashSet<string>(StringComparer.Ordinal) { "passing", "warning", "critical", "maintenance" };

    public void Register(Register register)
    {
        ArgumentNullException.ThrowIfNull(register);
        var node = register.Node ?? throw Refused("Missing node name");
        if (node.Name.Length == 0)
        {
            throw Refused("Missing node name");
        }

        var nodeKey = StateVersion.Lower(node.Name);
        var known = _nodes.TryGet(nodeKey, out var existingNode);
        if (!known || !register.SkipNodeUpdate)
        {
            if (node.Address.Length == 0)
            {
                throw Refused("Missing node address");
            }

            UpsertNode(nodeKey, node, known ? existingNode : null);
        }

        if (register.Service is { } service)
        {
            UpsertService(nodeKey, service);
        }

        foreach (var check in register.Checks)
        {
            UpsertCheck(nodeKey, check);
        }
    }

    public void Deregister(Deregister deregister)
    {
        ArgumentNullException.ThrowIfNull(deregister);
        if (deregister.Node.Length == 0)
        {
            throw Refused("Missing node name");
        }

        var nodeKey = StateVersion.Lower(deregister.Node);
        if (!_nodes.TryGet(nodeKey, out _))
        {
            return; // deregistering what is not there is not an error (Consul's behaviour)
        }

        if (deregister.ServiceId.Length > 0)
        {
            DeleteService(nodeKey, deregister.ServiceId);
        }

        if (deregister.CheckId.Length > 0)
        {
            DeleteCheck(nodeKey, deregister.CheckId);
        }

        if (deregister.ServiceId.Length == 0 && deregister.CheckId.Length == 0)
        {
            foreach (var (_, service) in _services.List(nodeKey + StateVersion.Sep))
            {
                DeleteService(nodeKey, service.Id);
            }

            foreach (var (_, check) in _checks.List(nodeKey + StateVersion.Sep))
            {
                DeleteCheck(nodeKey, check.Id);
            }

            foreach (var (_, session) in _sessionsByNode.List(nodeKey + StateVersion.Sep))
            {
                DestroySession(session.Id);
            }

            _nodes.Delete(nodeKey);
        }
    }

    private void UpsertNode(string nodeKey, Node node, Node? existing)
    {
        var next = node.Clone();
        next.CreateIndex = existing?.CreateIndex ?? Index;
        next.ModifyIndex = existing?.ModifyIndex ?? Index;
        if (next.Datacenter.Length == 0 && existing is not null)
        {
            next.Datacenter = existing.Datacenter;
        }

        if (existing is not null && next.Equals(existing))
        {
            return; // unchanged: no new index, no wake-up
        }

        next.ModifyIndex = Index;
        _nodes.Set(nodeKey, next);
    }

    private void UpsertService(string nodeKey, Service service)
    {
        if (service.Name.Length == 0)
        {
            throw Refused("Missing service name");
        }

        var next = service.Clone();
        if (next.Id.Length == 0)
        {
            next.Id = next.Name;
        }

        if (next.Port is < 0 or > 65535)
        {
            throw Refused($"Invalid service port {next.Port}");
        }

        _nodes.TryGet(nodeKey, out var node);
        next.Node = node!.Name;
        var key = StateVersion.Key(nodeKey, next.Id);
        var exists = _services.TryGet(key, out var existing);
        next.CreateIndex = exists ? existing.CreateIndex : Index;
        next.ModifyIndex = exists ? existing.ModifyIndex : Index;
        if (exists && next.Equals(existing))
        {
            return;
        }

        next.ModifyIndex = Index;
        if (exists && !string.Equals(existing.Name, next.Name, StringComparison.OrdinalIgnoreCase))
        {
            _servicesByName.Delete(StateVersion.Key(StateVersion.Lower(existing.Name), nodeKey, existing.Id), announce: false);
        }

        _services.Set(key, next);
        _servicesByName.Set(StateVersion.Key(StateVersion.Lower(next.Name), nodeKey, next.Id), next, announce: false);
    }

    private void UpsertCheck(string nodeKey, Check check)
    {
        var next = check.Clone();
        if (next.Id.Length == 0)
        {
            next.Id = next.Name;
        }

        if (next.Id.Length == 0)
        {
            throw Refused("Missing check ID");
        }

        if (next.Status.Length == 0)
        {
            next.Status = "critical";
        }

        if (!CheckStatuses.Contains(next.Status))
        {
            throw Refused($"Invalid check status \"{next.Status}\"");
        }

        _nodes.TryGet(nodeKey, out var node);
        next.Node = node!.Name;
        if (next.ServiceId.Length > 0)
        {
            if (!_services.TryGet(StateVersion.Key(nodeKey, next.ServiceId), out var service))
            {
                throw Refused($"Missing service \"{next.ServiceId}\" on node \"{node.Name}\" for check \"{next.Id}\"");
            }

            next.ServiceName = service.Name;
            next.ServiceTags.Clear();
            next.ServiceTags.AddRange(service.Tags);
        }

        var key = StateVersion.Key(nodeKey, next.Id);
        var exists = _checks.TryGet(key, out var existing);
        next.CreateIndex = exists ? existing.CreateIndex : Index;
        next.ModifyIndex = exists ? existing.ModifyIndex : Index;
        if (exists && next.Equals(existing))
        {
            return;
        }

        next.ModifyIndex = Index;
        if (exists && existing.ServiceName.Length > 0)
        {
            _checksByService.Delete(StateVersion.Key(StateVersion.Lower(existing.ServiceName), nodeKey, existing.Id), announce: false);
        }

        _checks.Set(key, next);
        if (next.ServiceName.Length > 0)
        {
            _checksByService.Set(StateVersion.Key(StateVersion.Lower(next.ServiceName), nodeKey, next.Id), next, announce: false);
        }

        if (next.Status == "critical")
        {
            InvalidateSessionsOfCheck(nodeKey, next.Id);
        }
    }

    private void DeleteService(string nodeKey, string serviceId)
    {
        var key = StateVersion.Key(nodeKey, serviceId);
        if (!_services.TryGet(key, out var service))
        {
            return;
        }

        foreach (var (_, check) in _checks.List(nodeKey + StateVersion.Sep))
        {
            if (check.ServiceId == serviceId)
            {
                DeleteCheck(nodeKey, check.Id);
            }
        }

        _services.Delete(key);
        _servicesByName.Delete(StateVersion.Key(StateVersion.Lower(service.Name), nodeKey, service.Id), announce: false);
    }

    private void DeleteCheck(string nodeKey, string checkId)
    {
        var key = StateVersion.Key(nodeKey, checkId);
        if (!_checks.TryGet(key, out var check))
        {
            return;
        }

        _checks.Delete(key);
        if (check.ServiceName.Length > 0)
        {
            _checksByService.Delete(StateVersion.Key(StateVersion.Lower(check.ServiceName), nodeKey, check.Id), announce: false);
        }

        InvalidateSessionsOfCheck(nodeKey, checkId);
    }

    private void InvalidateSessionsOfCheck(string nodeKey, string checkId)
    {
        foreach (var (_, session) in _sessionsByNode.List(nodeKey + StateVersion.Sep))
        {
            if (session.NodeChecks.Contains(checkId) || session.ServiceChecks.Any(c => c.Id == checkId))
            {
                DestroySession(session.Id);
            }
        }
    }
}
