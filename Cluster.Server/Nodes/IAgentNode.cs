using Cluster.Gossip.Pool;
using Cluster.Raft.Server;

namespace Cluster.Server.Nodes;

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

    /// <summary>This node's Raft state for /v1/agent/self; null on a client agent, or before a server's Raft starts.</summary>
    RaftStats? RaftStats { get; }
}
