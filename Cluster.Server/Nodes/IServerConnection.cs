using Cluster.Contracts.State;
using Cluster.Server.Query;

namespace Cluster.Server.Nodes;

/// <summary>
/// What an agent (its HTTP API, local state and DNS) needs from the servers. A server answers from its own
/// store (forwarding writes to the leader); a client agent asks a server over RPC.
/// </summary>
public interface IServerConnection : ICatalogSync
{
    /// <summary>Renews a session's TTL on the leader; false when there is no such session.</summary>
    Task<bool> RenewSessionAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>The leader's Raft address as a server knows it, empty when none is known.</summary>
    Task<string> LeaderAddressAsync(CancellationToken cancellationToken = default);

    /// <summary>Raft's servers (after a barrier unless stale) with their node names, voting rights and the leader.</summary>
    Task<RaftConfigurationReply> RaftConfigurationAsync(Consistency consistency, CancellationToken cancellationToken = default);

    /// <summary>Removes a Raft peer (on the leader). <see cref="InvalidRequestException"/> when it names none.</summary>
    Task RemovePeerAsync(PeerRequest peer, CancellationToken cancellationToken = default);

    /// <summary>Moves leadership to the peer named, or to any caught-up voter.</summary>
    Task TransferLeaderAsync(PeerRequest peer, CancellationToken cancellationToken = default);

    /// <summary>A typed read, held (blocking) while its index is the caller's.</summary>
    Task<QueryResult<T>> QueryAsync<T>(StateQuery<T> query, ReadOptions options, CancellationToken cancellationToken = default);

    /// <summary>A leaf for a service from its agent's CSR, signed on the leader (<see cref="Connect.RateLimitedException"/> when over the CSR limits).</summary>
    Task<SignReply> SignAsync(SignRequest request, CancellationToken cancellationToken = default);

    /// <summary>A new Connect CA configuration, rotating the root when it brings or asks for a new key.</summary>
    Task<CaConfigureReply> ConfigureCaAsync(CaConfigureRequest request, CancellationToken cancellationToken = default);

    /// <summary>The change feed of one subject: a snapshot (or a resume after the request's index), then its events.</summary>
    IAsyncEnumerable<SubscribeEvent> SubscribeAsync(SubscribeRequest request, CancellationToken cancellationToken = default);
}

/// <summary>What an agent's anti-entropy needs from the servers: write a command, read its node's catalog entry.</summary>
public interface ICatalogSync
{
    /// <summary>Replicates a command through the leader.</summary>
    Task<(ulong Index, CommandResult Result)> ApplyAsync(Command command, CancellationToken cancellationToken = default);

    /// <summary>What the catalog holds for a node (its services and checks).</summary>
    Task<NodeStateReply> NodeStateAsync(string node, Consistency consistency, CancellationToken cancellationToken = default);
}
