using System.Globalization;
using System.Text.Json.Nodes;
using Cluster.Raft.Core;
using Cluster.Server.Core;

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

    private Task StatusLeaderAsync(ApiRequest request)
    {
        var stats = Server.Raft?.Stats;
        return request.WriteJsonAsync(stats is null || stats.Leader == 0 ? "" : stats.LeaderAddress);
    }

    private async Task StatusPeersAsync(ApiRequest request)
    {
        var raft = Server.Raft ?? throw new NoLeaderException("No cluster leader");
        var stats = await raft.StatsNowAsync(request.Aborted);
        await request.WriteJsonAsync(stats.Configuration.Voters.Select(v => stats.Configuration.Addresses.GetValueOrDefault(v, "")).Order(StringComparer.Ordinal).ToArray());
    }

    private async Task RaftConfigurationAsync(ApiRequest request)
    {
        var raft = Server.Raft ?? throw new NoLeaderException("No cluster leader");
        if (request.Consistency != Consistency.Stale)
        {
            await Server.ReadBarrierAsync(Consistency.Default, request.Aborted);
        }

        var stats = await raft.StatsNowAsync(request.Aborted);
        var conf = stats.Configuration;
        var members = Server.ServerMembers();
        var servers = new JsonArray();
        foreach (var id in conf.Voters.Concat(conf.NonVoters).Order())
        {
            var member = members.FirstOrDefault(m => m.RaftId == id);
            var gossip = member is null ? null : Server.Lan.Members.FirstOrDefault(m => m.Name == member.Name);
            servers.Add(new JsonObject
            {
                ["ID"] = gossip?.Tags.GetValueOrDefault("id") ?? id.ToString(CultureInfo.InvariantCulture),
                ["Node"] = member?.Name ?? "(unknown)",
                ["Address"] = conf.Addresses.GetValueOrDefault(id, ""),
                ["Leader"] = id == stats.Leader,
                ["ProtocolVersion"] = "3",
                ["Voter"] = conf.IsVoter(id),
            });
        }

        await request.WriteJsonAsync(new JsonObject { ["Servers"] = servers, ["Index"] = stats.Committed });
    }

    /// <summary>The Raft id behind ?id (a node UUID or our numeric id) or ?address.</summary>
    private async Task<ulong> ResolvePeerAsync(ApiRequest request)
    {
        var raft = Server.Raft ?? throw new NoLeaderException("No cluster leader");
        var conf = (await raft.StatsNowAsync(request.Aborted)).Configuration;
        var ids = conf.Voters.Concat(conf.NonVoters).ToList();
        if (request.Query("id") is { Length: > 0 } id)
        {
            if (Guid.TryParse(id, out _) && ids.Contains(ServerNode.RaftIdOf(id)))
            {
                return ServerNode.RaftIdOf(id);
            }

            if (ulong.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var numeric) && ids.Contains(numeric))
            {
                return numeric;
            }

            throw ApiException.BadRequest($"id \"{id}\" was not found in the Raft configuration");
        }

        if (request.Query("address") is { Length: > 0 } address)
        {
            foreach (var candidate in ids)
            {
                if (conf.Addresses.GetValueOrDefault(candidate) == address)
                {
                    return candidate;
                }
            }

            throw ApiException.BadRequest($"address \"{address}\" was not found in the Raft configuration");
        }

        throw ApiException.BadRequest("Must specify either ?id with the server's ID or ?address with IP:port of peer to remove");
    }

    private async Task RaftRemovePeerAsync(ApiRequest request)
    {
        var id = await ResolvePeerAsync(request);
        try
        {
            await Server.Raft!.RemoveServerAsync(id, request.Aborted);
        }
        catch (Cluster.Raft.Server.NotLeaderException e)
        {
            throw new ApiException(500, $"{e.Message} (send this request to the leader)");
        }
    }

    private async Task RaftTransferAsync(ApiRequest request)
    {
        var raft = Server.Raft ?? throw new NoLeaderException("No cluster leader");
        ulong target;
        if (request.Has("id"))
        {
            target = await ResolvePeerAsync(request);
        }
        else
        {
            var stats = await raft.StatsNowAsync(request.Aborted);
            target = stats.Configuration.Voters.FirstOrDefault(v => v != stats.Id && stats.Matches.ContainsKey(v));
            if (target == 0)
            {
                throw new ApiException(500, "no other voter to transfer leadership to");
            }
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(request.Aborted);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        await raft.TransferLeadershipAsync(target, timeout.Token);
        await request.WriteJsonAsync(new JsonObject { ["Success"] = true });
    }
}
