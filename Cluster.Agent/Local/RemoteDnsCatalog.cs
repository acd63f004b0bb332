using Cluster.Agent.Dns;
using Cluster.Server.Nodes;
using Cluster.Server.Query;

namespace Cluster.Agent.Local;

/// <summary>
/// DNS on a client agent: every lookup is a stale read on whichever server the agent's pool
/// picks, so any server answers and a lost server only moves the read to the next.
/// </summary>
public sealed class RemoteDnsCatalog(IServerConnection servers, string ownDatacenter) : IDnsCatalog
{
    public async ValueTask<IReadOnlyList<DnsServiceInstance>> ServiceInstancesAsync(string service, string? tag, string? datacenter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(service);
        if (!OursOrDefault(datacenter))
        {
            return [];
        }

        var read = await servers.QueryAsync(new HealthServiceQuery(service, []), new ReadOptions(Consistency: Consistency.Stale), cancellationToken);
        return
        [
            .. read.Result
                .Where(i => tag is null || i.Service.Tags.Any(t => t.Equals(tag, StringComparison.OrdinalIgnoreCase))) // DNS tags match case-insensitively
                .Select(i => StoreDnsCatalog.Instance(i.Node, i.Service, i.Checks)),
        ];
    }

    public async ValueTask<DnsNode?> NodeAsync(string name, string? datacenter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!OursOrDefault(datacenter))
        {
            return null;
        }

        var reply = await servers.NodeStateAsync(name, Consistency.Stale, cancellationToken);
        return reply.Node is { } node ? new DnsNode(node.Name, node.Address) : null;
    }

    private bool OursOrDefault(string? asked) => asked is null || asked.Equals(ownDatacenter, StringComparison.OrdinalIgnoreCase);
}
