using Cluster.Contracts.State;
using Cluster.Server.Query;

namespace Cluster.Server.Core;

/// <summary>
/// What an agent (its HTTP API, local state and DNS) needs from the servers. A server answers from its own
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

    /// <summary>A typed read, held (blocking) while its index is the caller's.</summary>
    Task<QueryResult<T>> QueryAsync<T>(StateQuery<T> query, ReadOptions options, CancellationToken cancellationToken = default);

    /// <summary>The change feed of one subject: a snapshot (or a resume after the request's index), then its events.</summary>
    IAsyncEnumerable<SubscribeEvent> SubscribeAsync(SubscribeRequest request, CancellationToken cancellationToken = default);
}
