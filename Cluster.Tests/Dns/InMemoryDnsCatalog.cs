using Cluster.Agent.Dns;

namespace Cluster.Tests.Dns;

/// <summary>A catalog in memory: instances by service, nodes by name, datacenter "dc1" only.</summary>
public sealed class InMemoryDnsCatalog : IDnsCatalog
{
    private readonly Dictionary<string, List<DnsServiceInstance>> _services = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, DnsNode> _nodes = new(StringComparer.OrdinalIgnoreCase);

    public Exception? Failure { get; set; }

    public InMemoryDnsCatalog Node(string name, string address)
    {
        _nodes[name] = new DnsNode(name, address);
        return this;
    }

    public InMemoryDnsCatalog Service(string service, DnsServiceInstance instance)
    {
        if (!_services.TryGetValue(service, out var list))
        {
            _services[service] = list = [];
        }

        list.Add(instance);
        _nodes.TryAdd(instance.NodeName, new DnsNode(instance.NodeName, instance.NodeAddress));
        return this;
    }

    public ValueTask<IReadOnlyList<DnsServiceInstance>> ServiceInstancesAsync(string service, string? tag, string? datacenter, CancellationToken cancellationToken)
    {
        if (Failure is { } failure)
        {
            throw failure;
        }

        IReadOnlyList<DnsServiceInstance> found = datacenter is null && _services.TryGetValue(service, out var list)
            ? [.. list.Where(i => tag is null || i.Tags.Contains(tag, StringComparer.OrdinalIgnoreCase))]
            : [];
        return ValueTask.FromResult(found);
    }

    public ValueTask<DnsNode?> NodeAsync(string name, string? datacenter, CancellationToken cancellationToken) =>
        ValueTask.FromResult(datacenter is null && _nodes.TryGetValue(name, out var node) ? node : null);
}
