using System.Net;

namespace Cluster.Server.Nodes;

/// <summary>What a server node needs to run (the agent builds it from flags and files).</summary>
public sealed record ServerOptions
{
    public required string NodeName { get; init; }

    public string Datacenter { get; init; } = "dc1";

    /// <summary>Holds node-id, raft/ and serf/. Dev mode uses a fresh temporary directory, removed at shutdown.</summary>
    public required string DataDirectory { get; init; }

    public IPAddress Bind { get; init; } = IPAddress.Loopback;

    /// <summary>The address others use to reach this node (defaults to <see cref="Bind"/>, or loopback when bound to any).</summary>
    public IPAddress? Advertise { get; init; }

    public int ServerPort { get; init; } = 8300;

    public int SerfLanPort { get; init; } = 8301;

    /// <summary>Start Raft once this many servers are seen in gossip (0: do not bootstrap by count).</summary>
    public int BootstrapExpect { get; init; }

    /// <summary>Bootstrap alone at once (dev mode, or -bootstrap).</summary>
    public bool Bootstrap { get; init; }

    /// <summary>LAN gossip addresses to join, retried until one answers.</summary>
    public IReadOnlyList<string> RetryJoin { get; init; } = [];

    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Base64 gossip key (optional).</summary>
    public string? Encrypt { get; init; }

    public bool Fsync { get; init; } = true;

    /// <summary>A failed server is removed from Raft after this long, if quorum allows.</summary>
    public TimeSpan DeadServerGrace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long this server's LAN gossip must have run before a catalog node it does not know
    /// counts as reaped (two of the LAN pool's 30 s push-pull rounds: by then it has every
    /// member list its peers hold).
    /// </summary>
    public TimeSpan GossipConvergence { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Failed non-server members are deregistered after this long (Consul's reconnect_timeout).</summary>
    public TimeSpan ReapFailedAfter { get; init; } = TimeSpan.FromHours(72);

    /// <summary>How often the leader reconciles membership and the catalog even without gossip news.</summary>
    public TimeSpan ReconcileInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Tombstones older than this many seconds are reaped (Consul: tombstone_ttl 15 minutes).</summary>
    public TimeSpan TombstoneTtl { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Raft tick; elections after 10–20 ticks.</summary>
    public TimeSpan RaftTick { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The CA configuration a new cluster starts with (Consul's connect.ca_config); null: the defaults. Later changes go through the API.</summary>
    public Cluster.Contracts.State.CaConfig? ConnectCa { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Randomness for jitter (seeded in tests); used under a lock.</summary>
    public Random Random { get; init; } = new();

    public IPAddress AdvertiseAddress => Advertise ?? (Bind.Equals(IPAddress.Any) ? IPAddress.Loopback : Bind);
}
