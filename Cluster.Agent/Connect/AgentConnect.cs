using Cluster.Server.Nodes;
using Cluster.Server.Streaming;
using Microsoft.Extensions.Logging;

namespace Cluster.Agent.Connect;

/// <summary>An agent's Connect caches: the CA roots, its services' leaves and the intentions. Nothing runs until first asked for.</summary>
public sealed class AgentConnect : IAsyncDisposable
{
    private readonly Lazy<IntentionCache> _intentions;

    public AgentConnect(IServerConnection servers, string datacenter, Func<int> clusterSize, TimeProvider time, Random random, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var logger = loggerFactory.CreateLogger("Cluster.Agent.Connect");
        Time = time;
        Roots = new CaRootsWatch(servers, time, logger);
        Leaves = new LeafCertificates(servers, Roots, datacenter, clusterSize, time, random, logger);
        _intentions = new(() => new IntentionCache(new SubscriptionWatches(servers), time, logger));
    }

    public TimeProvider Time { get; }

    public CaRootsWatch Roots { get; }

    public LeafCertificates Leaves { get; }

    /// <summary>The agent's copy of the intentions (authorize answers from it), watched from its first use on.</summary>
    public IntentionCache Intentions => _intentions.Value;

    public async ValueTask DisposeAsync()
    {
        await Leaves.DisposeAsync().ConfigureAwait(false);
        await Roots.DisposeAsync().ConfigureAwait(false);
        if (_intentions.IsValueCreated)
        {
            await _intentions.Value.DisposeAsync().ConfigureAwait(false);
        }
    }
}
