using System.Net;
using Cluster.Gossip.Pool;
using Cluster.Gossip.Security;

namespace Cluster.Server.Nodes;

/// <summary>
/// A node's LAN gossip pool, server or client: bound where the options say, its keyring from
/// -encrypt or data-dir/serf/local.keyring, and failed members kept for
/// <see cref="ServerOptions.ReapFailedAfter"/> (Consul's reconnect_timeout) before they are reaped.
/// </summary>
public static class LanPool
{
    public static GossipPool Start(ServerOptions options, IReadOnlyDictionary<string, string> tags)
    {
        ArgumentNullException.ThrowIfNull(options);
        var keyringPath = Path.Combine(options.DataDirectory, "serf", "local.keyring");
        return GossipPool.Start(new PoolOptions
        {
            Kind = PoolKind.Lan,
            NodeName = options.NodeName,
            Datacenter = options.Datacenter,
            Bind = new IPEndPoint(options.Bind, options.SerfLanPort),
            Tags = tags,
            Keyring = options.Encrypt is { Length: > 0 } key ? new Keyring([Keyring.ParseKey(key)]) : null,
            KeyringFile = options.Encrypt is { Length: > 0 } || File.Exists(keyringPath) ? keyringPath : null,
            Time = options.Time,
            Tune = gossip => gossip with { DeadReclaimTime = options.ReapFailedAfter },
        });
    }
}
