using Grpc.Core;
using Cluster.Server.State;
using Cluster.Contracts.State;

namespace Cluster.Server.Nodes;

/// <summary>
/// What agents ask of a server: their node's catalog state for anti-entropy and service
/// instances for DNS (typed reads, subscriptions and operator calls are in the sibling files).
/// </summary>
public sealed partial class ServerNode : IServerConnection
{
    public string NodeName => Options.NodeName;

    public string Datacenter => Options.Datacenter;

    public bool IsServer => true;

    public IServerConnection Servers => this;

    public Cluster.Raft.Server.RaftStats? RaftStats => Raft?.Stats;

    public async Task<NodeStateReply> NodeStateAsync(string node, Consistency consistency, CancellationToken cancellationToken = default)
    {
        await ReadBarrierAsync(consistency, cancellationToken).ConfigureAwait(false);
        return CatalogReplies.NodeState(Store.Current, node);
    }

    internal Task<NodeStateReply> ServeNodeStateAsync(NodeStateRequest request, ServerCallContext context) =>
        Served(NodeStateAsync(request.Node, request.Stale ? Consistency.Stale : Consistency.Default, context.CancellationToken));

    /// <summary>
    /// No leader is a status the client can tell apart from an unreachable server, and a refused
    /// request one it must not retry elsewhere; the client turns them back into the same exceptions.
    /// </summary>
    private static async Task<T> Served<T>(Task<T> read)
    {
        try
        {
            return await read.ConfigureAwait(false);
        }
        catch (NoLeaderException e)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, e.Message));
        }
        catch (InvalidRequestException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
        catch (Connect.RateLimitedException e)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, e.Message));
        }
        catch (Exception e) when (e is InvalidOperationException or Cluster.Raft.Server.NotLeaderException)
        {
            // Raft refused here (this server is not the leader): an answer, not a transport failure.
            throw new RpcException(new Status(StatusCode.FailedPrecondition, e.Message));
        }
    }
}
