using Cluster.Server.Query;
using System.Text.Json.Nodes;
using Cluster.Contracts.State;
using Cluster.Server.Nodes;
using static Cluster.Agent.Http.JsonFields;

namespace Cluster.Agent.Http;

/// <summary>/v1/session.</summary>
public sealed partial class HttpApi
{
    private void MapSessions()
    {
        Map("PUT", "/v1/session/create", SessionCreateAsync);
        Map("PUT", "/v1/session/destroy/*", SessionDestroyAsync);
        Map("PUT", "/v1/session/renew/*", SessionRenewAsync);
        Map("GET", "/v1/session/info/*", r => SessionsAsync(r, new SessionInfoQuery(Required(r, "session id"))));
        Map("GET", "/v1/session/node/*", r => SessionsAsync(r, new NodeSessionsQuery(Required(r, "node name"))));
        Map("GET", "/v1/session/list", r => SessionsAsync(r, new SessionListQuery()));
    }

    private async Task SessionCreateAsync(ApiRequest request)
    {
        CheckDatacenter(request);
        var body = await request.JsonBodyAsync(optional: true) ?? new JsonObject();
        var session = new Session
        {
            Id = Guid.NewGuid().ToString(),
            Name = Str(body, "Name"),
            Node = Str(body, "Node", Agent.NodeName),
            Behavior = Str(body, "Behavior", "release"),
            LockDelayNs = LockDelay(body),
        };
        if (session.Behavior.Length == 0)
        {
            session.Behavior = "release";
        }

        if (session.Behavior is not ("release" or "delete"))
        {
            throw ApiException.BadRequest($"Invalid Behavior setting '{session.Behavior}'");
        }

        var ttl = Str(body, "TTL");
        if (ttl.Length > 0 && ttl != "0s" && ttl != "0")
        {
            if (SessionTtl.Parse(ttl) is not { } parsed)
            {
                throw ApiException.BadRequest($"Request decode failed: invalid TTL \"{ttl}\"");
            }

            if (parsed < SessionTtl.Min || parsed > SessionTtl.Max)
            {
                throw ApiException.BadRequest($"Invalid Session TTL '{parsed.TotalSeconds}s', must be between [10s=24h0m0s]");
            }

            session.Ttl = ttl;
        }

        var checks = Strings(body, "Checks").Concat(Strings(body, "NodeChecks")).Distinct(StringComparer.Ordinal).ToList();
        var serviceChecks = Arr(body, "ServiceChecks") ?? [];
        if (body["Checks"] is null && body["NodeChecks"] is null && serviceChecks.Count == 0)
        {
            checks.Add(ServerNode.SerfCheckId);
        }

        session.NodeChecks.AddRange(checks);
        foreach (var item in serviceChecks)
        {
            var check = item as JsonObject ?? throw ApiException.BadRequest("Request decode failed: ServiceChecks: expected objects");
            session.ServiceChecks.Add(new ServiceCheckRef { Id = Str(check, "ID"), Namespace = Str(check, "Namespace") });
        }

        await ApplyOrRefuseAsync(new Command { Session = new SessionOp { Verb = SessionOp.Types.Verb.Create, Session = session } }, request);
        await request.WriteJsonAsync(new JsonObject { ["ID"] = session.Id });
    }

    /// <summary>LockDelay: a Go duration, or a number (seconds below 1000, else nanoseconds: Consul's rule); 15 s by default, 60 s at most.</summary>
    private static long LockDelay(JsonObject body)
    {
        TimeSpan delay;
        if (body["LockDelay"] is JsonValue value && value.TryGetValue<double>(out var number))
        {
            if (number < 0)
            {
                throw ApiException.BadRequest("Invalid LockDelay: must be between 0 and 60s");
            }

            delay = number < 1000 ? TimeSpan.FromSeconds(number) : TimeSpan.FromTicks((long)(number / 100));
        }
        else
        {
            delay = Duration(body, "LockDelay") ?? TimeSpan.FromSeconds(15);
        }

        if (delay < TimeSpan.Zero || delay > TimeSpan.FromSeconds(60))
        {
            throw ApiException.BadRequest("Invalid LockDelay: must be between 0 and 60s");
        }

        return delay.Ticks * 100;
    }

    private async Task SessionDestroyAsync(ApiRequest request)
    {
        var id = Required(request, "session id");
        await Node.Servers.ApplyAsync(new Command { Session = new SessionOp { Verb = SessionOp.Types.Verb.Destroy, Session = new Session { Id = id } } }, request.Aborted);
        await request.WriteJsonAsync(true);
    }

    private async Task SessionRenewAsync(ApiRequest request)
    {
        var id = Required(request, "session id");
        if (!await Node.Servers.RenewSessionAsync(id, request.Aborted))
        {
            throw ApiException.NotFound($"Session id '{id}' not found");
        }

        var sessions = await Node.Servers.QueryAsync(new SessionInfoQuery(id), new ReadOptions(Consistency: Consistency.Stale), request.Aborted);
        await request.WriteJsonAsync(new JsonArray([.. sessions.Result.Select(s => (JsonNode)ConsulJson.Session(s))]));
    }

    private async Task SessionsAsync(ApiRequest request, SessionsQuery read)
    {
        CheckDatacenter(request);
        var result = await QueryAsync(request, read);
        await request.WriteJsonAsync(new JsonArray([.. result.Result.Select(s => (JsonNode)ConsulJson.Session(s))]));
    }
}
