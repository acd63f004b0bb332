using Cluster.Contracts.State;

namespace Cluster.Server.Core;

/// <summary>
/// What an agent's local state and DNS need from the servers. A server answers from its own
/// store (forwarding writes to the leader); a client agent asks a server over RPC.
/// </summary>
public interface IServerConnection
{
    /// <summary>Replicates a command through the leader.</summary>
    Task<(ulong Index, CommandResult Result)> ApplyAsync(Command command, CancellationToken cancellationToken = default);

    /// <summary>What the catalog holds for a node (its services and checks).</summary>
    Task<NodeStateReply> NodeStateAsync(string node, Consistency consistency, CancellationToken cancellationToken = default);

    /// <summary>Instances of a service (optionally with a tag), each with its node and checks.</summary>
    Task<ServiceInstancesReply> ServiceInstancesAsync(string service, string? tag, Consistency consistency, CancellationToken cancellationToken = default);
}
