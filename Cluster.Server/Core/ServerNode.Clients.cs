using Grpc.Core;
using Cluster.Server.State;
using Cluster.Contracts.State;

namespace Cluster.Server.Core;

/// <summary>
/// What client agents ask of a server: their HTTP requests (answered by this server's own HTTP
/// API), their node's catalog state for anti-entropy, and service instances for DNS.
/// </summary>
public sealed partial class ServerNode : IServerConnection
{
    public string NodeName => Options.NodeName;

    public string Datacenter => Options.Datacenter;

    public bool IsServer => true;

    public IServerConnection Servers => this;

    /// <summary>Answers a forwarded HTTP request; set by the agent once its HTTP API exists.</summary>
    public Func<HttpForward, CancellationToken, Task<HttpForwardReply>>? HttpHandler { get; set; }

    public async Task<NodeStateReply> NodeStateAsync(string node, Consistency consistency, CancellationToken cancellationToken = default)
    {
        await ReadBarrierAsync(consistency, cancellationToken).ConfigureAwait(false);
        return CatalogReplies.NodeState(Store.Current, node);
    }

    public async Task<ServiceInstancesReply> ServiceInstancesAsync(string service, string? tag, Consistency consistency, CancellationToken cancellationToken = default)
    {
        await ReadBarrierAsync(consistency, cancellationToken).ConfigureAwait(false);
        return CatalogReplies.ServiceInstances(Store.Current, service, tag);
    }

    internal Task<HttpForwardReply> ServeHttpAsync(HttpForward request, ServerCallContext context) =>
        HttpHandler is { } handler
            ? handler(request, context.CancellationToken)
            : throw new RpcException(new Status(StatusCode.Unavailable, "the server's HTTP API is not running yet"));

    internal Task<NodeStateReply> ServeNodeStateAsync(NodeStateRequest request, ServerCallContext context) =>
        Served(NodeStateAsync(request.Node, request.Stale ? Consistency.Stale : Consistency.Default, context.CancellationToken));

    internal Task<ServiceInstancesReply> ServeServiceInstancesAsync(ServiceInstancesRequest request, ServerCallContext context) =>
        Served(ServiceInstancesAsync(request.Service, request.Tag, request.Stale ? Consistency.Stale : Consistency.Default, context.CancellationToken));

    /// <summary>No leader is a status the client can tell apart from an unreachable server.</summary>
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
    }
}
