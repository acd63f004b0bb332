namespace Cluster.Agent.Config;

/// <summary>The agent's ports, Consul's defaults; -1 turns off the listeners that may be off.</summary>
public sealed record AgentPorts
{
    /// <summary>Port number meaning "this listener is off".</summary>
    public const int Disabled = -1;

    public int Http { get; init; } = 8500;

    public int Https { get; init; } = Disabled;

    public int Grpc { get; init; } = 8502;

    public int Dns { get; init; } = 8600;

    /// <summary>Server RPC (Raft and forwarding); servers only.</summary>
    public int Server { get; init; } = 8300;

    public int SerfLan { get; init; } = 8301;

    /// <summary>WAN gossip between datacenters' servers.</summary>
    public int SerfWan { get; init; } = 8302;

    /// <summary>
    /// Actor remoting between every agent of the datacenter (ours; Consul has none): the Akka
    /// cluster the proxy snapshot actors live in. 0 picks a free port, which gossip advertises.
    /// </summary>
    public int Actors { get; init; } = 8303;
}
