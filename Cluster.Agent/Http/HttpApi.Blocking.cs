using Cluster.Server.Query;

namespace Cluster.Agent.Http;

/// <summary>
/// Reads (Consul's ?index, ?wait, ?stale, ?consistent) go to <see cref="Cluster.Server.Nodes.IServerConnection.QueryAsync"/>:
/// a server answers from its own store, a client agent asks a server over gRPC, and either way the
/// server holds a blocking read until its index moves. The answer's meta becomes X-Consul-Index
/// and the leader headers.
/// </summary>
public sealed partial class HttpApi
{
    public async Task<QueryResult<T>> QueryAsync<T>(ApiRequest request, StateQuery<T> query)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(query);
        var minIndex = request.QueryUInt64("index");
        var options = new ReadOptions(minIndex, minIndex > 0 ? request.Wait : TimeSpan.Zero, request.Consistency);
        var result = await Node.Servers.QueryAsync(query, options, request.Aborted);
        request.SetIndex(result.Index);
        request.SetLeaderHeaders(result.KnownLeader, result.LastContact);
        return result;
    }
}
