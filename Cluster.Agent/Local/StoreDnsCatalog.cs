using System.Collections.Concurrent;
using Cluster.Agent.Dns;
using Cluster.Server.State;
using Cluster.Contracts.State;

namespace Cluster.Agent.Local;

/// <summary>
/// DNS on a server: answers from the local store (a stale read, as Consul's DNS does by
/// default). Answers are cached per store version, so a burst of lookups of one service between
/// two writes reads the store once; any commit starts a fresh cache.
/// </summary>
public sealed class StoreDnsCatalog(StateStore store, string ownDatacenter) : IDnsCatalog
{
    private const int MaxCachedLookups = 4096;
    private Cache _cache = new(store.Current);

    public ValueTask<IReadOnlyList<DnsServiceInstance>> ServiceInstancesAsync(string service, string? tag, string? datacenter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(service);
        if (!OursOrDefault(datacenter))
        {
            return ValueTask.FromResult<IReadOnlyList<DnsServiceInstance>>([]);
        }

        var cache = Current();
        var key = new LookupKey(service, tag);
        if (!cache.Services.TryGetValue(key, out var instances))
        {
            instances = Read(cache.Version, service, tag);
            if (cache.Services.Count < MaxCachedLookups)
            {
                cache.Services.TryAdd(key, instances);
            }
        }

        return ValueTask.FromResult(instances);
    }

    public ValueTask<DnsNode?> NodeAsync(string name, string? datacenter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        var node = OursOrDefault(datacenter) ? store.Current.NodeGet(name).Result : null;
        return ValueTask.FromResult(node is null ? null : new DnsNode(node.Name, node.Address));
    }

    private bool OursOrDefault(string? asked) => asked is null || asked.Equals(ownDatacenter, StringComparison.OrdinalIgnoreCase);

    private Cache Current()
    {
        var cache = Volatile.Read(ref _cache);
        var version = store.Current;
        if (!ReferenceEquals(cache.Version, version))
        {
            cache = new Cache(version);
            Volatile.Write(ref _cache, cache);
        }

        return cache;
    }

    private static DnsServiceInstance[] Read(StateVersion version, string service, string? tag)
    {
        var instances = version.HealthService(service).Result;
        var result = new List<DnsServiceInstance>(instances.Count);
        foreach (var instance in instances)
        {
            // Tags match case-insensitively in DNS, as Consul's.
            if (tag is not null && !instance.Service.Tags.Any(t => t.Equals(tag, StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            result.Add(Instance(instance.Node, instance.Service, instance.Checks));
        }

        return [.. result];
    }

    /// <summary>One instance as DNS sees it: its address, port, tags, and the health its checks add up to.</summary>
    internal static DnsServiceInstance Instance(Node node, Service registered, IEnumerable<Check> checks) =>
        new(
            node.Name,
            node.Address,
            registered.Address,
            registered.Port,
            [.. registered.Tags],
            Health(checks),
            registered.WeightPassing > 0 ? registered.WeightPassing : 1,
            registered.WeightWarning > 0 ? registered.WeightWarning : 1);

    private static DnsHealth Health(IEnumerable<Check> checks)
    {
        var health = DnsHealth.Passing;
        foreach (var check in checks)
        {
            switch (check.Status)
            {
                case "critical" or "maintenance":
                    return DnsHealth.Critical;
                case "warning":
                    health = DnsHealth.Warning;
                    break;
            }
        }

        return health;
    }

    private sealed record Cache(StateVersion Version)
    {
        public ConcurrentDictionary<LookupKey, IReadOnlyList<DnsServiceInstance>> Services { get; } = new(LookupKeyComparer.Instance);
    }

    private readonly record struct LookupKey(string Service, string? Tag);

    private sealed class LookupKeyComparer : IEqualityComparer<LookupKey>
    {
        public static readonly LookupKeyComparer Instance = new();

        public bool Equals(LookupKey x, LookupKey y) =>
            string.Equals(x.Service, y.Service, StringComparison.OrdinalIgnoreCase) && string.Equals(x.Tag, y.Tag, StringComparison.OrdinalIgnoreCase);

        public int GetHashCode(LookupKey key) =>
            HashCode.Combine(StringComparer.OrdinalIgnoreCase.GetHashCode(key.Service), key.Tag is null ? 0 : StringComparer.OrdinalIgnoreCase.GetHashCode(key.Tag));
    }
}
