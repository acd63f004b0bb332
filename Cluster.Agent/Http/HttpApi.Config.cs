using Cluster.Server.Query;
using System.Text.Json.Nodes;
using Cluster.Contracts.State;

namespace Cluster.Agent.Http;

/// <summary>/v1/config: proxy-defaults and service-defaults, validated before they are written.</summary>
public sealed partial class HttpApi
{
    private void MapConfig()
    {
        Map("PUT", "/v1/config", ConfigWriteAsync);
        Map("GET,DELETE", "/v1/config/*", ConfigReadOrDeleteAsync);
    }

    private async Task ConfigWriteAsync(ApiRequest request)
    {
        CheckDatacenter(request);
        var body = (await request.JsonBodyAsync())!;
        var entry = ConfigEntries.Validate(body);
        var op = new ConfigOp { Verb = ConfigOp.Types.Verb.Upsert, Entry = entry };
        if (request.Has("cas"))
        {
            op.Verb = ConfigOp.Types.Verb.Cas;
            op.Index = request.QueryUInt64("cas");
        }

        var (_, result) = await ApplyOrRefuseAsync(new Command { Config = op }, request);
        await request.WriteJsonAsync(result.Ok);
    }

    private async Task ConfigReadOrDeleteAsync(ApiRequest request)
    {
        CheckDatacenter(request);
        var parts = request.Rest.Split('/', 2);
        var kind = ConfigEntries.NormalizeKind(parts[0]);
        var name = parts.Length > 1 ? parts[1] : "";
        if (request.Method == "DELETE")
        {
            if (name.Length == 0)
            {
                throw ApiException.BadRequest("Missing config entry name");
            }

            var op = new ConfigOp { Verb = ConfigOp.Types.Verb.Delete, Entry = new ConfigEntry { Kind = kind, Name = name } };
            if (request.Has("cas"))
            {
                op.Verb = ConfigOp.Types.Verb.DeleteCas;
                op.Index = request.QueryUInt64("cas");
            }

            var (_, result) = await ApplyOrRefuseAsync(new Command { Config = op }, request);
            await request.WriteJsonAsync(request.Has("cas") ? result.Ok : new JsonObject());
            return;
        }

        if (name.Length == 0)
        {
            var list = await QueryAsync(request, new ConfigListQuery(kind));
            await request.WriteJsonAsync(new JsonArray([.. list.Result.Select(e => (JsonNode)ConsulJson.ConfigEntry(e))]));
            return;
        }

        var read = await QueryAsync(request, new ConfigGetQuery(kind, name));
        if (read.Result is not { } found)
        {
            throw ApiException.NotFound($"Config entry not found for \"{kind}\" / \"{name}\"");
        }

        await request.WriteJsonAsync(ConsulJson.ConfigEntry(found));
    }
}
