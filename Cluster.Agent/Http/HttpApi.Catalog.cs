using Cluster.Server.Query;
using System.Text.Json.Nodes;
using Cluster.Server.State;
using Cluster.Contracts.State;
using static Cluster.Agent.Http.JsonFields;

#pragma warning disable CA1507 // JSON field names that happen to match member names are Consul's, not ours

namespace Cluster.Agent.Http;

/// <summary>/v1/catalog and /v1/health.</summary>
public sealed partial class HttpApi
{
    private void MapCatalog()
    {
        Map("PUT", "/v1/catalog/register", CatalogRegisterAsync);
        Map("PUT", "/v1/catalog/deregister", CatalogDeregisterAsync);
        Map("GET", "/v1/catalog/datacenters", r => r.WriteJsonAsync(new[] { Datacenter }));
        Map("GET", "/v1/catalog/nodes", CatalogNodesAsync);
        Map("GET", "/v1/catalog/services", CatalogServicesAsync);
        Map("GET", "/v1/catalog/service/*", CatalogServiceAsync);
        Map("GET", "/v1/catalog/node/*", CatalogNodeAsync);
        Map("GET", "/v1/catalog/node-services/*", CatalogNodeServicesAsync);
    }

    private void MapHealth()
    {
        Map("GET", "/v1/health/node/*", r => ChecksAsync(r, new NodeChecksQuery(Required(r, "node name"))));
        Map("GET", "/v1/health/checks/*", r => ChecksAsync(r, new ServiceChecksQuery(Required(r, "service name"))));
        Map("GET", "/v1/health/state/*", HealthStateAsync);
        Map("GET", "/v1/health/service/*", HealthServiceAsync);
    }

    private static string Required(ApiRequest request, string what) =>
        request.Rest.Length > 0 ? request.Rest : throw ApiException.BadRequest($"Missing {what}");

    private void CheckDatacenter(ApiRequest request)
    {
        if (request.Query("dc") is { Length: > 0 } dc && !string.Equals(dc, Datacenter, StringComparison.OrdinalIgnoreCase))
        {
            // Federation (forwarding to other datacenters) comes with WAN federation.
            throw new ApiException(500, $"No path to datacenter \"{dc}\"");
        }
    }

    private async Task CatalogRegisterAsync(ApiRequest request)
    {
        CheckDatacenter(request);
        var body = (await request.JsonBodyAsync())!;
        var register = new Register { Node = Decode.Node(body), SkipNodeUpdate = Bool(body, "SkipNodeUpdate") };
        if (register.Node.Name.Length == 0)
        {
            throw ApiException.BadRequest("Missing node name");
        }

        if (register.Node.Address.Length == 0 && !register.SkipNodeUpdate)
        {
            throw ApiException.BadRequest("Missing node address");
        }

        // The body's Datacenter is the request's (Consul's parseDC): ours unless it names another.
        if (register.Node.Datacenter.Length > 0 && !string.Equals(register.Node.Datacenter, Datacenter, StringComparison.OrdinalIgnoreCase))
        {
            throw new ApiException(500, $"No path to datacenter \"{register.Node.Datacenter}\"");
        }

        register.Node.Datacenter = Datacenter;

        if (Obj(body, "Service") is { } service)
        {
            register.Service = Decode.Service(service);
            if (register.Service.Name.Length == 0)
            {
                throw ApiException.BadRequest("Invalid service: missing service name");
            }
        }

        var checks = new List<Check>();
        if (Obj(body, "Check") is { } check)
        {
            checks.Add(Decode.Check(check));
        }

        foreach (var item in Arr(body, "Checks") ?? [])
        {
            checks.Add(Decode.Check(item as JsonObject ?? throw ApiException.BadRequest("Request decode failed: Checks: expected objects")));
        }

        foreach (var c in checks)
        {
            if (c.Id.Length == 0 && c.Name.Length == 0)
            {
                throw ApiException.BadRequest("Invalid check: missing CheckID or Name");
            }
        }

        register.Checks.AddRange(checks);
        await ApplyOrRefuseAsync(new Command { Register = register }, request);
        await request.WriteJsonAsync(true);
    }

    private async Task CatalogDeregisterAsync(ApiRequest request)
    {
        CheckDatacenter(request);
        var body = (await request.JsonBodyAsync())!;
        var deregister = new Deregister { Node = Str(body, "Node"), ServiceId = Str(body, "ServiceID"), CheckId = Str(body, "CheckID") };
        if (deregister.Node.Length == 0)
        {
            throw ApiException.BadRequest("Missing node name");
        }

        await ApplyOrRefuseAsync(new Command { Deregister = deregister }, request);
        await request.WriteJsonAsync(true);
    }

    /// <summary>Applies a command; one the store refuses becomes a 400 with its reason (nothing was applied).</summary>
    private async Task<(ulong Index, CommandResult Result)> ApplyOrRefuseAsync(Command command, ApiRequest request)
    {
        var (index, result) = await Node.Servers.ApplyAsync(command, request.Aborted);
        if (result.Refused.Length > 0)
        {
            throw ApiException.BadRequest(result.Refused);
        }

        return (index, result);
    }

    private async Task CatalogNodesAsync(ApiRequest request)
    {
        CheckDatacenter(request);
        var read = await QueryAsync(request, new NodeListQuery());
        await request.WriteJsonAsync(new JsonArray([.. FilterNodeMeta(request, read.Result).Select(n => (JsonNode)ConsulJson.Node(n))]));
    }

    private static IEnumerable<Contracts.State.Node> FilterNodeMeta(ApiRequest request, IEnumerable<Contracts.State.Node> nodes)
    {
        var wanted = request.Http.Request.Query["node-meta"].Where(v => v is not null).Select(v => v!.Split(':', 2)).ToList();
        return wanted.Count == 0 ? nodes : nodes.Where(n => wanted.All(w => n.Meta.TryGetValue(w[0], out var v) && v == (w.Length > 1 ? w[1] : "")));
    }

    private async Task CatalogServicesAsync(ApiRequest request)
    {
        CheckDatacenter(request);
        var read = await QueryAsync(request, new ServiceNamesQuery());
        var json = new JsonObject();
        foreach (var (name, tags) in read.Result)
        {
            json[name] = new JsonArray([.. tags.Select(t => (JsonNode)JsonValue.Create(t)!)]);
        }

        await request.WriteJsonAsync(json);
    }

    private async Task CatalogServiceAsync(ApiRequest request)
    {
        CheckDatacenter(request);
        var name = Required(request, "service name");
        var tags = request.Http.Request.Query["tag"].Where(t => t is not null).Select(t => t!).ToList();
        var read = await QueryAsync(request, new ServiceNodesQuery(name, tags));
        await request.WriteJsonAsync(new JsonArray([.. read.Result.Select(p => (JsonNode)ConsulJson.ServiceNode(p.Node, p.Service))]));
    }

    private async Task CatalogNodeAsync(ApiRequest request)
    {
        CheckDatacenter(request);
        var read = await QueryAsync(request, new NodeServicesQuery(Required(request, "node name")));
        if (read.Result is not { } found)
        {
            await request.WriteJsonAsync(null);
            return;
        }

        var services = new JsonObject();
        foreach (var service in found.Services)
        {
            services[service.Id] = ConsulJson.AgentService(service, Datacenter);
        }

        await request.WriteJsonAsync(new JsonObject { ["Node"] = ConsulJson.Node(found.Node), ["Services"] = services });
    }

    private async Task CatalogNodeServicesAsync(ApiRequest request)
    {
        CheckDatacenter(request);
        var read = await QueryAsync(request, new NodeServicesQuery(Required(request, "node name")));
        if (read.Result is not { } found)
        {
            throw ApiException.NotFound($"Node not found: \"{request.Rest}\"");
        }

        await request.WriteJsonAsync(new JsonObject
        {
            ["Node"] = ConsulJson.Node(found.Node),
            ["Services"] = new JsonArray([.. found.Services.Select(s => (JsonNode)ConsulJson.AgentService(s, Datacenter))]),
        });
    }

    private async Task ChecksAsync(ApiRequest request, ChecksQuery read)
    {
        CheckDatacenter(request);
        var result = await QueryAsync(request, read);
        await request.WriteJsonAsync(new JsonArray([.. result.Result.Select(c => (JsonNode)ConsulJson.Check(c))]));
    }

    private Task HealthStateAsync(ApiRequest request)
    {
        var state = Required(request, "check state");
        if (state != "any" && !StateWriter.CheckStatuses.Contains(state))
        {
            throw ApiException.BadRequest($"Invalid check state \"{state}\"");
        }

        return ChecksAsync(request, new ChecksInStateQuery(state));
    }

    private async Task HealthServiceAsync(ApiRequest request)
    {
        CheckDatacenter(request);
        var name = Required(request, "service name");
        var tags = request.Http.Request.Query["tag"].Where(t => t is not null).Select(t => t!).ToList();
        var passing = request.Has("passing") && request.Query("passing") is not ("false" or "0");
        var read = await QueryAsync(request, new HealthServiceQuery(name, tags));
        var instances = passing ? read.Result.Where(i => i.Checks.All(c => c.Status == "passing")) : read.Result;
        await request.WriteJsonAsync(new JsonArray([.. instances.Select(i => (JsonNode)ConsulJson.HealthEntry(i, Datacenter))]));
    }
}
