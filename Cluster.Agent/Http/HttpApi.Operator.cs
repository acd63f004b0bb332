using System.Text.Json.Nodes;
using Cluster.Contracts.State;
using Cluster.Server.Nodes;

#pragma warning disable CA1507 // JSON field names that happen to match member names are Consul's, not ours

namespace Cluster.Agent.Http;

/// <summary>/v1/status and /v1/operator/raft.</summary>
public sealed partial class HttpApi
{
    private void MapStatusAndOperator()
    {
        Map("GET", "/v1/status/leader", StatusLeaderAsync);
        Map("GET", "/v1/status/peers", StatusPeersAsync);
        Map("GET", "/v1/operator/raft/configuration", RaftConfigurationAsync);
        Map("DELETE", "/v1/operator/raft/peer", RaftRemovePeerAsync);
        Map("POST,PUT", "/v1/operator/raft/transfer-leader", RaftTransferAsync);
    }

    private async Task StatusLeaderAsync(ApiRequest request) =>
        await request.WriteJsonAsync(await Node.Servers.LeaderAddressAsync(request.Aborted));

    private async Task StatusPeersAsync(ApiRequest request)
    {
        var conf = await Node.Servers.RaftConfigurationAsync(Consistency.Stale, request.Aborted);
        await request.WriteJsonAsync(conf.Servers.Where(s => s.Voter).Select(s => s.Address).Order(StringComparer.Ordinal).ToArray());
    }

    private async Task RaftConfigurationAsync(ApiRequest request)
    {
        var conf = await Node.Servers.RaftConfigurationAsync(request.Consistency, request.Aborted);
        var servers = new JsonArray();
        foreach (var server in conf.Servers)
        {
            servers.Add(new JsonObject
            {
                ["ID"] = server.Id,
                ["Node"] = server.Node,
                ["Address"] = server.Address,
                ["Leader"] = server.Leader,
                ["ProtocolVersion"] = "3",
                ["Voter"] = server.Voter,
            });
        }

        await request.WriteJsonAsync(new JsonObject { ["Servers"] = servers, ["Index"] = conf.Index });
    }

    private Task RaftRemovePeerAsync(ApiRequest request) => Node.Servers.RemovePeerAsync(Peer(request), request.Aborted);

    private async Task RaftTransferAsync(ApiRequest request)
    {
        await Node.Servers.TransferLeaderAsync(Peer(request), request.Aborted);
        await request.WriteJsonAsync(new JsonObject { ["Success"] = true });
    }

    private static PeerRequest Peer(ApiRequest request) => new() { Id = request.Query("id") ?? "", Address = request.Query("address") ?? "" };
}
