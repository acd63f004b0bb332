using System.Globalization;
using System.Text.Json.Nodes;
using Cluster.Gossip.Core;
using Cluster.Gossip.Wire;
using Cluster.Server.Wire;
using static Cluster.Server.Http.JsonFields;

#pragma warning disable CA1507 // JSON field names that happen to match member names are Consul's, not ours

namespace Cluster.Server.Http;

/// <summary>/v1/agent: this agent's own view (members, its services and checks, TTL updates).</summary>
public sealed partial class HttpApi
{
    private void MapAgent()
    {
        Map("GET", "/v1/agent/self", AgentSelfAsync);
        Map("GET", "/v1/agent/members", AgentMembersAsync);
        Map("GET", "/v1/agent/services", AgentServicesAsync);
        Map("GET", "/v1/agent/service/*", AgentServiceAsync);
        Map("GET", "/v1/agent/checks", AgentChecksAsync);
        Map("PUT", "/v1/agent/service/register", AgentServiceRegisterAsync);
        MapLegacyGet("/v1/agent/service/deregister/*", AgentServiceDeregisterAsync);
        Map("PUT", "/v1/agent/check/register", AgentCheckRegisterAsync);
        MapLegacyGet("/v1/agent/check/deregister/*", AgentCheckDeregisterAsync);
        MapLegacyGet("/v1/agent/check/pass/*", r => AgentTtlAsync(r, "passing"));
        MapLegacyGet("/v1/agent/check/warn/*", r => AgentTtlAsync(r, "warning"));
        MapLegacyGet("/v1/agent/check/fail/*", r => AgentTtlAsync(r, "critical"));
        Map("PUT", "/v1/agent/check/update/*", r => AgentTtlAsync(r, null));
        MapLegacyGet("/v1/agent/join/*", AgentJoinAsync);
    }

    private static JsonObject Member(Member member)
    {
        var colon = member.Address.LastIndexOf(':');
        var tags = new JsonObject();
        foreach (var (key, value) in member.Tags.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            tags[key] = value;
        }

        tags["role"] ??= "node";
        return new JsonObject
        {
            ["Name"] = member.Name,
            ["Addr"] = member.Address[..colon],
            ["Port"] = int.Parse(member.Address[(colon + 1)..], CultureInfo.InvariantCulture),
            ["Tags"] = tags,
            // Serf's numbering: 1 alive, 3 left, 4 failed (a suspect is still alive to Serf).
            ["Status"] = member.Status switch { MemberStatus.Alive or MemberStatus.Suspect => 1, MemberStatus.Left => 3, _ => 4 },
            ["ProtocolMin"] = 1,
            ["ProtocolMax"] = 5,
            ["ProtocolCur"] = 2,
            ["DelegateMin"] = 2,
            ["DelegateMax"] = 5,
            ["DelegateCur"] = 4,
        };
    }

    private async Task AgentSelfAsync(ApiRequest request)
    {
        var self = Server.Lan.Members.FirstOrDefault(m => m.Name == Server.Lan.Name);
        var stats = Server.Raft?.Stats;
        await request.WriteJsonAsync(new JsonObject
        {
            ["Config"] = new JsonObject
            {
                ["Datacenter"] = Datacenter,
                ["PrimaryDatacenter"] = Datacenter,
                ["NodeName"] = Server.Options.NodeName,
                ["NodeID"] = Server.NodeId,
                ["Revision"] = "cluster",
                ["Server"] = true,
                ["Version"] = Core.ServerNode.BuildVersion,
            },
            ["Member"] = self is null ? null : Member(self),
            ["Stats"] = new JsonObject
            {
                ["raft"] = new JsonObject
                {
                    ["state"] = stats?.Role.ToString().ToUpperInvariant() ?? "NONE",
                    ["term"] = (stats?.Term ?? 0).ToString(CultureInfo.InvariantCulture),
                    ["commit_index"] = (stats?.Committed ?? 0).ToString(CultureInfo.InvariantCulture),
                    ["applied_index"] = (stats?.Applied ?? 0).ToString(CultureInfo.InvariantCulture),
                    ["last_snapshot_index"] = (stats?.SnapshotIndex ?? 0).ToString(CultureInfo.InvariantCulture),
                },
            },
            ["Meta"] = new JsonObject(),
        });
    }

    private Task AgentMembersAsync(ApiRequest request) =>
        request.WriteJsonAsync(new JsonArray([.. Server.Lan.Members.OrderBy(m => m.Name, StringComparer.Ordinal).Select(m => (JsonNode)Member(m))]));

    private Task AgentServicesAsync(ApiRequest request)
    {
        var json = new JsonObject();
        foreach (var service in Agent.Services)
        {
            json[service.Id] = ConsulJson.AgentService(service, Datacenter);
        }

        return request.WriteJsonAsync(json);
    }

    private Task AgentServiceAsync(ApiRequest request)
    {
        var service = Agent.Services.FirstOrDefault(s => s.Id == request.Rest)
            ?? throw ApiException.NotFound($"unknown service ID: {request.Rest}");
        return request.WriteJsonAsync(ConsulJson.AgentService(service, Datacenter));
    }

    private Task AgentChecksAsync(ApiRequest request)
    {
        var json = new JsonObject();
        foreach (var check in Agent.Checks)
        {
            json[check.Id] = ConsulJson.Check(check);
        }

        return request.WriteJsonAsync(json);
    }

    private async Task AgentServiceRegisterAsync(ApiRequest request)
    {
        var body = (await request.JsonBodyAsync())!;
        var service = Decode.Service(body);
        if (service.Name.Length == 0)
        {
            throw ApiException.BadRequest("Missing service name");
        }

        var definitions = new List<JsonObject>();
        if (Obj(body, "Check") is { } single)
        {
            definitions.Add(single);
        }

        foreach (var item in Arr(body, "Checks") ?? [])
        {
            definitions.Add(item as JsonObject ?? throw ApiException.BadRequest("Request decode failed: Checks: expected objects"));
        }

        var checks = new List<(Check, TimeSpan?)>();
        for (var i = 0; i < definitions.Count; i++)
        {
            var (check, ttl) = AgentCheck(definitions[i], service.Id);
            if (check.Id.Length == 0)
            {
                check.Id = definitions.Count == 1 ? $"service:{service.Id}" : $"service:{service.Id}:{i + 1}";
            }

            if (check.Name.Length == 0)
            {
                check.Name = $"Service '{service.Name}' check";
            }

            checks.Add((check, ttl));
        }

        await Agent.RegisterServiceAsync(service, checks, request.Aborted);
        request.Http.Response.StatusCode = 200;
    }

    /// <summary>A check definition sent to the agent; only TTL checks run here until client agents run the others.</summary>
    private static (Check Check, TimeSpan? Ttl) AgentCheck(JsonObject json, string serviceId)
    {
        var check = Decode.Check(json, serviceId);
        var ttl = Duration(json, "TTL");
        if (ttl is { } t && t <= TimeSpan.Zero)
        {
            throw ApiException.BadRequest("TTL must be > 0");
        }

        var hasRunner = json["HTTP"] is not null || json["TCP"] is not null || json["GRPC"] is not null || json["Args"] is not null || json["AliasService"] is not null;
        if (ttl is null && !hasRunner)
        {
            throw ApiException.BadRequest("Invalid check: TTL, HTTP, TCP, GRPC, Args or AliasService must be set");
        }

        var definition = new JsonObject();
        foreach (var field in new[] { "HTTP", "TCP", "GRPC", "TTL", "Interval", "Timeout", "DeregisterCriticalServiceAfter", "Method", "TLSSkipVerify" })
        {
            if (json[field] is { } value)
            {
                definition[field] = value.DeepClone();
            }
        }

        check.DefinitionJson = definition.ToJsonString();
        return (check, ttl);
    }

    private async Task AgentServiceDeregisterAsync(ApiRequest request)
    {
        if (!await Agent.DeregisterServiceAsync(request.Rest, request.Aborted))
        {
            throw ApiException.NotFound($"Unknown service ID \"{request.Rest}\". Ensure that the service ID is passed, not the service name.");
        }
    }

    private async Task AgentCheckRegisterAsync(ApiRequest request)
    {
        var body = (await request.JsonBodyAsync())!;
        var (check, ttl) = AgentCheck(body, "");
        if (check.Name.Length == 0)
        {
            throw ApiException.BadRequest("Missing check name");
        }

        if (check.Id.Length == 0)
        {
            check.Id = check.Name;
        }

        try
        {
            await Agent.RegisterCheckAsync(check, ttl, request.Aborted);
        }
        catch (KeyNotFoundException e)
        {
            throw ApiException.BadRequest(e.Message);
        }
    }

    private async Task AgentCheckDeregisterAsync(ApiRequest request)
    {
        if (!await Agent.DeregisterCheckAsync(request.Rest, request.Aborted))
        {
            throw ApiException.NotFound($"Unknown check ID \"{request.Rest}\". Ensure that the check ID is passed, not the check name.");
        }
    }

    private async Task AgentTtlAsync(ApiRequest request, string? status)
    {
        var output = request.Query("note") ?? "";
        if (status is null)
        {
            var body = await request.JsonBodyAsync(optional: true) ?? new JsonObject();
            status = Str(body, "Status");
            output = Str(body, "Output");
            if (status is not ("passing" or "warning" or "critical"))
            {
                throw ApiException.BadRequest($"Invalid check status: \"{status}\"");
            }
        }

        try
        {
            await Agent.UpdateTtlAsync(request.Rest, status, output, request.Aborted);
        }
        catch (KeyNotFoundException e)
        {
            throw ApiException.NotFound(e.Message);
        }
        catch (InvalidOperationException e)
        {
            throw ApiException.BadRequest(e.Message);
        }
    }

    private async Task AgentJoinAsync(ApiRequest request)
    {
        var address = request.Rest.Contains(':', StringComparison.Ordinal) ? request.Rest : $"{request.Rest}:8301";
        if (await Server.Lan.JoinAsync([address]) == 0)
        {
            throw new ApiException(500, $"failed to join {request.Rest}");
        }
    }
}
