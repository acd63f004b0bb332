namespace Cluster.Agent.Dns;

/// <summary>
/// What DNS asks of the catalog. Async because a client agent answers it through an RPC to the
/// servers (stale reads); a server answers from its own store. Names compare case-insensitively;
/// a null datacenter means the agent's own, and an unknown one answers nothing.
/// </summary>
public interface IDnsCatalog
{
    /// <summary>Every instance of <paramref name="service"/> (carrying <paramref name="tag"/> when given), whatever its health.</summary>
    ValueTask<IReadOnlyList<DnsServiceInstance>> ServiceInstancesAsync(string service, string? tag, string? datacenter, CancellationToken cancellationToken);

    /// <summary>The node, or null when there is none by that name.</summary>
    ValueTask<DnsNode?> NodeAsync(string name, string? datacenter, CancellationToken cancellationToken);
}

/// <summary>The worst status among a service instance's checks (its node's and its own); maintenance counts as critical.</summary>
public enum DnsHealth
{
    Passing,
    Warning,
    Critical,
}

/// <summary>A node as DNS sees it; <see cref="Address"/> is an IP or a host name.</summary>
public sealed record DnsNode(string Name, string Address);

/// <summary>One service instance: its node, its own address (empty: the node's) and port, tags, health and SRV weights.</summary>
public sealed record DnsServiceInstance(
    string NodeName,
    string NodeAddress,
    string ServiceAddress,
    int Port,
    IReadOnlyList<string> Tags,
    DnsHealth Health,
    int WeightPassing = 1,
    int WeightWarning = 1)
{
    /// <summary>The address clients should dial: the service's if it has one, else its node's.</summary>
    public string Address => ServiceAddress.Length > 0 ? ServiceAddress : NodeAddress;
}
