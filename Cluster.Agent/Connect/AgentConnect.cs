using Cluster.Server.Nodes;
using Microsoft.Extensions.Logging;

namespace Cluster.Agent.Connect;

/// <summary>An agent's Connect caches: the CA roots and its services' leaves. Nothing runs until first asked for.</summary>
public sealed class AgentConnect : IAsyncDisposable
{
    public AgentConnect(IServerConnection servers, string datacenter, Func<int> clusterSize, TimeProvider time, Random random, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var logger = loggerFactory.CreateLogger("Cluster.Agent.Connect");
        Roots = new CaRootsWatch(servers, time, logger);
        Leaves = new LeafCertificates(servers, Roots, datacenter, clusterSize, time, random, logger);
    }

    public CaRootsWatch Roots { get; }

    public LeafCertificates Leaves { get; }

    public async ValueTask DisposeAsync()
    {
        await Leaves.DisposeAsync().ConfigureAwait(false);
        await Roots.DisposeAsync().ConfigureAwait(false);
    }
}
