using Cluster.Contracts.State;

namespace Cluster.Server.State;

/// <summary>A read's answer: the index it is current as of, the result, and what to await for it to change.</summary>
public readonly record struct Read<T>(ulong Index, T Result, IReadOnlyList<Task> Watches);

/// <summary>One instance of a service with its node and every check that applies to it (node checks and its own).</summary>
public sealed record ServiceInstance(Node Node, Service Service, IReadOnlyList<Check> Checks);

/// <summary>
/// Reads. Each returns the index of what it read (never 0: a read of nothing answers the table's
/// index, or 1 for an empty store, since clients treat 0 as "do not block") and the watches that
/// fire when its answer may change.
/// </summary>
public sealed partial record StateVersion
{
    public Read<KvEntry?> KvGet(string key)
    {
        var (found, entry, changed) = Kvs.GetWatch(key);
        var index = found ? entry.ModifyIndex : MaxIndex(Tables.Kvs, Tables.Tombstones);
        return new(Floor(index), found ? entry : null, [changed]);
    }

    /// <summary>
    /// The entries under a prefix. Only the KV tree is watched (as Consul's kvsListTxn): a delete
    /// under the prefix changes it too, while the tombstone tree's watch, for a prefix with no
    /// tombstones, is a node above it that any delete anywhere fires.
    /// </summary>
    public Read<IReadOnlyList<KvEntry>> KvList(string prefix)
    {
        var (entries, changed) = Kvs.PrefixWatch(prefix);
        var (tombs, _) = Tombstones.PrefixWatch(prefix);

        // Listing everything answers the tables' index, as Consul's KVSList, so it never goes back
        // when tombstones are reaped.
        var index = prefix.Length == 0 ? MaxIndex(Tables.Kvs, Tables.Tombstones) : 0;
        foreach (var entry in entries)
        {
            index = Math.Max(index, entry.Value.ModifyIndex);
        }

        foreach (var tomb in tombs)
        {
            index = Math.Max(index, tomb.Value);
        }

        if (index == 0)
        {
            index = MaxIndex(Tables.Kvs, Tables.Tombstones);
        }

        return new(Floor(index), [.. entries.Select(e => e.Value)], [changed]);
    }

    public Read<IReadOnlyList<Node>> NodeList()
    {
        var (entries, changed) = Nodes.PrefixWatch("");
        return new(Floor(TableIndex(Tables.Nodes)), [.. entries.Select(e => e.Value)], [changed]);
    }

    public Read<Node?> NodeGet(string name)
    {
        var (found, node, changed) = Nodes.GetWatch(Lower(name));
        return new(Floor(TableIndex(Tables.Nodes)), found ? node : null, [changed]);
    }

    /// <summary>Every service name with the union of its instances' tags.</summary>
    public Read<IReadOnlyDictionary<string, IReadOnlyList<string>>> ServiceNames()
    {
        var (entries, changed) = Services.PrefixWatch("");
        var names = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var (_, service) in entries)
        {
            if (!names.TryGetValue(service.Name, out var tags))
            {
                names[service.Name] = tags = new SortedSet<string>(StringComparer.Ordinal);
            }

            tags.UnionWith(service.Tags);
        }

        return new(Floor(TableIndex(Tables.Services)), names.ToDictionary(n => n.Key, n => (IReadOnlyList<string>)[.. n.Value], StringComparer.Ordinal), [changed]);
    }

    /// <summary>The instances of a service (with their nodes), optionally only those carrying every tag given.</summary>
    public Read<IReadOnlyList<(Node Node, Service Service)>> ServiceNodes(string name, IReadOnlyCollection<string>? tags = null)
    {
        var (entries, changed) = ServicesByName.PrefixWatch(Lower(name) + Sep);
        var result = new List<(Node, Service)>();
        foreach (var (_, service) in entries)
        {
            if (tags is { Count: > 0 } && !tags.All(service.Tags.Contains))
            {
                continue;
            }

            if (Nodes.TryGet(Lower(service.Node), out var node))
            {
                result.Add((node, service));
            }
        }

        return new(Floor(MaxIndex(Tables.Services, Tables.Nodes)), result, [changed, Nodes.Changed]);
    }

    public Read<(Node Node, IReadOnlyList<Service> Services)?> NodeServices(string name)
    {
        var nodeKey = Lower(name);
        var (found, node, nodeChanged) = Nodes.GetWatch(nodeKey);
        var index = Floor(MaxIndex(Tables.Nodes, Tables.Services));
        if (!found)
        {
            return new(index, null, [nodeChanged]);
        }

        var (services, changed) = Services.PrefixWatch(nodeKey + Sep);
        return new(index, (node, [.. services.Select(s => s.Value)]), [nodeChanged, changed]);
    }

    public Read<IReadOnlyList<Check>> NodeChecks(string name)
    {
        var (checks, changed) = Checks.PrefixWatch(Lower(name) + Sep);
        return new(Floor(TableIndex(Tables.Checks)), [.. checks.Select(c => c.Value)], [changed]);
    }

    public Read<IReadOnlyList<Check>> ServiceChecks(string service)
    {
        var (checks, changed) = ChecksByService.PrefixWatch(Lower(service) + Sep);
        return new(Floor(TableIndex(Tables.Checks)), [.. checks.Select(c => c.Value)], [changed]);
    }

    /// <summary>Checks in one state, or every check for "any".</summary>
    public Read<IReadOnlyList<Check>> ChecksInState(string state)
    {
        var (checks, changed) = Checks.PrefixWatch("");
        return new(Floor(TableIndex(Tables.Checks)), [.. checks.Select(c => c.Value).Where(c => state == "any" || c.Status == state)], [changed]);
    }

    /// <summary>Instances of a service with their node and the checks that decide their health.</summary>
    public Read<IReadOnlyList<ServiceInstance>> HealthService(string name, IReadOnlyCollection<string>? tags = null)
    {
        var nodes = ServiceNodes(name, tags);
        var result = new List<ServiceInstance>(nodes.Result.Count);
        foreach (var (node, service) in nodes.Result)
        {
            result.Add(Instance(node, service));
        }

        return new(Floor(MaxIndex(Tables.Services, Tables.Nodes, Tables.Checks)), result, [.. nodes.Watches, Checks.Changed]);
    }

    /// <summary>A service on its node with the checks that decide its health: the node's own and the service's.</summary>
    public ServiceInstance Instance(Node node, Service service)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(service);
        var checks = Checks.PrefixWatch(Lower(node.Name) + Sep).Entries
            .Select(c => c.Value)
            .Where(c => c.ServiceId.Length == 0 || c.ServiceId == service.Id)
            .ToList();
        return new ServiceInstance(node, service, checks);
    }

    /// <summary>The instances of a service on one node (node key lower-case), with their checks.</summary>
    public IEnumerable<ServiceInstance> InstancesOn(string serviceName, string nodeKey)
    {
        if (!Nodes.TryGet(nodeKey, out var node))
        {
            yield break;
        }

        foreach (var (_, service) in ServicesByName.PrefixWatch(Key(Lower(serviceName), nodeKey) + Sep).Entries)
        {
            yield return Instance(node, service);
        }
    }

    public Read<IReadOnlyList<Session>> SessionList()
    {
        var (sessions, changed) = Sessions.PrefixWatch("");
        return new(Floor(TableIndex(Tables.Sessions)), [.. sessions.Select(s => s.Value)], [changed]);
    }

    public Read<Session?> SessionGet(string id)
    {
        var (found, session, changed) = Sessions.GetWatch(id);
        return new(Floor(TableIndex(Tables.Sessions)), found ? session : null, [changed]);
    }

    public Read<IReadOnlyList<Session>> NodeSessions(string node)
    {
        var (sessions, changed) = SessionsByNode.PrefixWatch(Lower(node) + Sep);
        return new(Floor(TableIndex(Tables.Sessions)), [.. sessions.Select(s => s.Value)], [changed]);
    }

    public Read<IReadOnlyList<ConfigEntry>> ConfigList(string kind)
    {
        var (entries, changed) = Config.PrefixWatch(kind + Sep);
        return new(Floor(TableIndex(Tables.Config)), [.. entries.Select(e => e.Value)], [changed]);
    }

    public Read<ConfigEntry?> ConfigGet(string kind, string name)
    {
        var (found, entry, changed) = Config.GetWatch(Key(kind, name));
        return new(Floor(TableIndex(Tables.Config)), found ? entry : null, [changed]);
    }

    /// <summary>The Connect CA with its signing keys, null before the leader has made it (servers only: see <see cref="Query.CaQuery"/> for what leaves a server).</summary>
    public Read<CaState?> CaGet()
    {
        var (found, ca, changed) = Ca.GetWatch(CaKey);
        return new(Floor(TableIndex(Tables.Ca)), found ? ca : null, [changed]);
    }

    private static ulong Floor(ulong index) => Math.Max(index, 1);
}
