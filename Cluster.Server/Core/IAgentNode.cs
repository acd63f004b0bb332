using Cluster.Gossip.Pool;

namespace Cluster.Server.Core;

/// <summary>The node an agent runs on, server or client: its identity, its LAN pool and its way to the servers.</summary>
public interface IAgentNode : IAsyncDisposable
{
    string NodeName { get; }

    /// <summary>This node's UUID (kept in data-dir/node-id).</summary>
    string NodeId { get; }

    string Datacenter { get; }

    bool IsServer { get; }

    GossipPool Lan { get; }

    IServerConnection Servers { get; }
}
