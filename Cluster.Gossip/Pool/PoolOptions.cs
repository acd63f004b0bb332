using System.Net;
using Cluster.Gossip.Core;
using Cluster.Gossip.Security;

namespace Cluster.Gossip.Pool;

/// <summary>The two pools Consul's users know: LAN (one per datacenter, every agent) and WAN (servers of all datacenters).</summary>
public enum PoolKind
{
    Lan,
    Wan,
}

/// <summary>How to run one pool member.</summary>
public sealed record PoolOptions
{
    public required PoolKind Kind { get; init; }

    /// <summary>The node's name; in the WAN pool members are <c>node.datacenter</c>.</summary>
    public required string NodeName { get; init; }

    public string Datacenter { get; init; } = "dc1";

    /// <summary>UDP and TCP on this address (port 0 picks one); LAN defaults to 8301, WAN to 8302 in the agent.</summary>
    public required IPEndPoint Bind { get; init; }

    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>The keyring to start with (from <c>-encrypt</c>), or null for plaintext; a saved keyring file wins.</summary>
    public Keyring? Keyring { get; init; }

    /// <summary>Where keyring changes are saved (Consul's <c>serf/local.keyring</c>), so a restart keeps a rotated key.</summary>
    public string? KeyringFile { get; init; }

    /// <summary>Adjusts the protocol settings after the pool's profile is applied (tests use faster timers).</summary>
    public Func<GossipOptions, GossipOptions>? Tune { get; init; }

    public TimeProvider? Time { get; init; }

    public Random? Random { get; init; }

    public string MemberName => Kind == PoolKind.Wan ? $"{NodeName}.{Datacenter}" : NodeName;

    /// <summary>
    /// Associated data of every sealed packet: a LAN packet does not open in the WAN pool, nor in
    /// another datacenter's LAN, even under the same key.
    /// </summary>
    public string Label => Kind == PoolKind.Wan ? "wan" : $"lan/{Datacenter}";

    /// <summary>
    /// memberlist's profiles: LAN probes every second, WAN every five with longer timeouts,
    /// a larger suspicion multiplier and less frequent push-pull, for links between datacenters.
    /// </summary>
    public static GossipOptions Profile(PoolKind kind, string name, string address) => kind == PoolKind.Wan
        ? new GossipOptions
        {
            Name = name,
            Address = address,
            ProbeInterval = TimeSpan.FromSeconds(5),
            ProbeTimeout = TimeSpan.FromSeconds(3),
            SuspicionMult = 6,
            GossipInterval = TimeSpan.FromMilliseconds(500),
            GossipNodes = 4,
            PushPullInterval = TimeSpan.FromSeconds(60),
        }
        : new GossipOptions { Name = name, Address = address };
}
