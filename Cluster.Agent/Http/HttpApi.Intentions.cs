using System.Text.Json.Nodes;
using Cluster.Agent.Connect;
using Cluster.Contracts.State;
using Cluster.Server.Connect;
using Cluster.Server.Query;
using Microsoft.AspNetCore.Http;
using static Cluster.Agent.Http.JsonFields;

#pragma warning disable CA1507 // JSON field names that happen to match member names are Consul's, not ours

namespace Cluster.Agent.Http;

/// <summary>
/// /v1/connect/intentions (list, exact, check, match, and the legacy ID-based API) on top of the
/// service-intentions config entries, with no storage of their own: a write reads the
/// destination's entry, edits it (<see cref="IntentionEdits"/>) and writes it back with a
/// compare-and-set on the index it read. And /v1/agent/connect/authorize, answered from this
/// agent's <see cref="IntentionCache"/>.
/// </summary>
public sealed partial class HttpApi
{
    /// <summary>How often a write is retried when another write to the same destination won the compare-and-set.</summary>
    private const int EditAttempts = 8;

    /// <summary>How long authorize waits for this agent's first copy of the intentions before answering 500.</summary>
    public static readonly TimeSpan AuthorizeWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// What decides a connection no intention matches. The seam ACLs will own; without them Consul
    /// allows everything (<see cref="IntentionDefault.AclsDisabled"/>).
    /// </summary>
    public IntentionDefault DefaultIntentionPolicy { get; set; } = IntentionDefault.AclsDisabled;

    /// <summary>This cluster's SPIFFE trust domain, from the agent's copy of the CA roots; null while unknown (then authorize does not check it).</summary>
    private string? TrustDomain() => Connect.Roots.Current?.Ca.TrustDomain;

    /// <summary>The clock of legacy intentions' timestamps and of authorize's wait for the intentions.</summary>
    private TimeProvider ConnectClock => Connect.Time;

    /// <summary>This agent's copy of the intentions, made on first use and watched from then on.</summary>
    public IntentionCache Intentions => Connect.Intentions;

    private void MapIntentions()
    {
        Map("GET,POST", "/v1/connect/intentions", r => r.Method == "GET" ? IntentionListAsync(r) : IntentionCreateAsync(r));
        Map("GET,PUT,DELETE", "/v1/connect/intentions/exact", IntentionExactAsync);
        Map("GET", "/v1/connect/intentions/check", IntentionCheckAsync);
        Map("GET", "/v1/connect/intentions/match", IntentionMatchAsync);
        Map("GET,PUT,DELETE", "/v1/connect/intentions/*", IntentionByIdAsync);
        Map("POST", "/v1/agent/connect/authorize", AgentConnectAuthorizeAsync);
    }

    private async Task<IntentionSet> ReadIntentionsAsync(ApiRequest request)
    {
        CheckDatacenter(request);
        return IntentionSet.From((await QueryAsync(request, new ConfigListQuery(ServiceIntentions.Kind))).Result);
    }

    private async Task IntentionListAsync(ApiRequest request)
    {
        var set = await ReadIntentionsAsync(request);
        await request.WriteJsonAsync(new JsonArray([.. set.All.Select(i => (JsonNode)IntentionJson.Render(i))]));
    }

    private Task IntentionExactAsync(ApiRequest request) => request.Method switch
    {
        "GET" => IntentionGetExactAsync(request),
        "PUT" => IntentionPutExactAsync(request),
        _ => IntentionDeleteExactAsync(request),
    };

    private async Task IntentionGetExactAsync(ApiRequest request)
    {
        var (peer, source) = Target(request, "source", allowPeer: true);
        var (_, destination) = Target(request, "destination");
        var set = await ReadIntentionsAsync(request);
        await request.WriteJsonAsync(IntentionJson.Render(set.Exact(source, destination, peer) ?? throw ApiException.NotFound("Intention not found")));
    }

    private async Task IntentionPutExactAsync(ApiRequest request)
    {
        CheckDatacenter(request);
        var (_, source) = Target(request, "source");
        var (_, destination) = Target(request, "destination");
        var body = IntentionJson.Decode((await request.JsonBodyAsync())!);
        if (body.SourcePeer.Length > 0)
        {
            throw ApiException.BadRequest("SourcePeer field is not supported on this endpoint. Use config entries instead");
        }

        // The URL names the intention; an ID in the body (a legacy intention sent back) is dropped, as Consul does.
        var value = new SourceIntention { Name = source, Action = body.Action, Permissions = body.Permissions, Type = body.SourceType, Description = body.Description };
        await EditAsync(request, destination, current => IntentionEdits.Upsert(current, destination, value, body.Meta));
        await request.WriteJsonAsync(true);
    }

    private async Task IntentionDeleteExactAsync(ApiRequest request)
    {
        CheckDatacenter(request);
        var (_, source) = Target(request, "source");
        var (_, destination) = Target(request, "destination");
        await EditAsync(request, destination, current => IntentionEdits.Delete(current, source));
        await request.WriteJsonAsync(true);
    }

    private async Task IntentionCheckAsync(ApiRequest request)
    {
        if (request.Query("source-type") is { Length: > 0 } type && type != SourceIntention.ConsulType)
        {
            throw ApiException.BadRequest($"unsupported SourceType: \"{type}\"");
        }

        var (_, source) = Target(request, "source");
        var (_, destination) = Target(request, "destination");
        var set = await ReadIntentionsAsync(request);
        await request.WriteJsonAsync(new JsonObject { ["Allowed"] = set.Check(source, destination, DefaultIntentionPolicy).Authorized });
    }

    private async Task IntentionMatchAsync(ApiRequest request)
    {
        var by = request.Http.Request.Query["by"];
        if (by.Count != 1)
        {
            throw ApiException.BadRequest("required query parameter 'by' not set");
        }

        var matchBy = by[0] switch
        {
            "source" => IntentionMatchBy.Source,
            "destination" => IntentionMatchBy.Destination,
            _ => throw ApiException.BadRequest("'by' parameter must be one of 'source' or 'destination'"),
        };
        var names = request.Http.Request.Query["name"];
        if (names.Count == 0)
        {
            throw ApiException.BadRequest("required query parameter 'name' not set");
        }

        var targets = names.Select(n => (Text: n ?? "", Name: ParseTarget(n ?? "", request.Query("ns"), allowPeer: false, what: "name").Name)).ToList();
        var set = await ReadIntentionsAsync(request);
        var answer = new JsonObject();
        foreach (var (text, name) in targets)
        {
            answer[text] = new JsonArray([.. set.Match(matchBy, name).Select(i => (JsonNode)IntentionJson.Render(i))]);
        }

        await request.WriteJsonAsync(answer);
    }

    private Task IntentionByIdAsync(ApiRequest request)
    {
        if (!Guid.TryParseExact(request.Rest, "D", out _))
        {
            throw ApiException.BadRequest($"Invalid UUID: \"{request.Rest}\"");
        }

        return request.Method switch
        {
            "GET" => IntentionGetByIdAsync(request),
            "PUT" => IntentionUpdateByIdAsync(request),
            _ => IntentionDeleteByIdAsync(request),
        };
    }

    private async Task IntentionGetByIdAsync(ApiRequest request)
    {
        var set = await ReadIntentionsAsync(request);
        await request.WriteJsonAsync(IntentionJson.Render(set.ById(request.Rest) ?? throw ApiException.NotFound("Intention not found")));
    }

    /// <summary>POST /v1/connect/intentions (deprecated in Consul): a new intention with a generated ID.</summary>
    private async Task IntentionCreateAsync(ApiRequest request)
    {
        CheckDatacenter(request);
        var body = IntentionJson.Decode((await request.JsonBodyAsync())!);
        if (body.Id.Length > 0)
        {
            throw ApiException.BadRequest("ID must be empty when creating a new intention");
        }

        var (source, destination) = LegacyNames(request, body);
        var id = Guid.NewGuid().ToString("D");
        var now = ConnectClock.GetUtcNow();
        var value = LegacySource(body, source, id, now);
        await EditAsync(request, destination, current => IntentionEdits.LegacyCreate(current, destination, value));
        await request.WriteJsonAsync(new JsonObject { ["ID"] = id });
    }

    /// <summary>PUT /v1/connect/intentions/:id (deprecated in Consul): replaces the intention with that ID.</summary>
    private async Task IntentionUpdateByIdAsync(ApiRequest request)
    {
        CheckDatacenter(request);
        var id = request.Rest;
        var body = IntentionJson.Decode((await request.JsonBodyAsync())!);
        var (source, destination) = LegacyNames(request, body);
        var found = (await ReadIntentionsAsync(request)).ById(id) ?? throw ApiException.NotFound($"Cannot modify non-existent intention: '{id}'");
        var value = LegacySource(body, source, id, ConnectClock.GetUtcNow());
        if (!await EditAsync(request, found.Destination, current => IntentionEdits.LegacyUpdate(current, destination, value)))
        {
            throw ApiException.NotFound($"Cannot modify non-existent intention: '{id}'");
        }

        request.Http.Response.StatusCode = StatusCodes.Status200OK;
    }

    /// <summary>DELETE /v1/connect/intentions/:id (deprecated in Consul).</summary>
    private async Task IntentionDeleteByIdAsync(ApiRequest request)
    {
        CheckDatacenter(request);
        var id = request.Rest;
        var found = (await ReadIntentionsAsync(request)).ById(id) ?? throw ApiException.NotFound($"Cannot delete non-existent intention: '{id}'");
        if (!await EditAsync(request, found.Destination, current => IntentionEdits.LegacyDelete(current, id)))
        {
            throw ApiException.NotFound($"Cannot delete non-existent intention: '{id}'");
        }

        request.Http.Response.StatusCode = StatusCodes.Status200OK;
    }

    /// <summary>
    /// POST /v1/agent/connect/authorize: a proxy asks whether a client certificate may connect to
    /// its service. A bad request is refused before anything else; then the answer comes from this
    /// agent's cached intentions, waiting up to <see cref="AuthorizeWait"/> for their first copy
    /// (500 with a reason after that, so a proxy that treats errors as deny fails closed).
    /// </summary>
    private async Task AgentConnectAuthorizeAsync(ApiRequest request)
    {
        var body = (await request.JsonBodyAsync())!;
        var authorize = new AuthorizeRequest(Str(body, "Target"), Str(body, "Namespace"), Str(body, "ClientCertURI"), Str(body, "ClientCertSerial"));
        var identity = ConnectAuthorizer.Identify(authorize);
        var index = await Intentions.ReadyAsync(AuthorizeWait, request.Aborted);
        var decision = ConnectAuthorizer.Decide(index, identity, authorize.Destination, TrustDomain(), DefaultIntentionPolicy);
        await request.WriteJsonAsync(new JsonObject { ["Authorized"] = decision.Authorized, ["Reason"] = decision.Reason });
    }

    /// <summary>
    /// Reads the destination's entry, applies <paramref name="edit"/> and writes the result with a
    /// compare-and-set on the index read, reading again when another write came first (a bounded
    /// number of times: then 409, nothing written). False when the edit found nothing to act on.
    /// </summary>
    private async Task<bool> EditAsync(ApiRequest request, ServiceName destination, Func<ServiceIntentions?, EntryChange?> edit)
    {
        var name = IntentionEdits.StoreName(destination);
        for (var attempt = 0; attempt < EditAttempts; attempt++)
        {
            var read = await Node.Servers.QueryAsync(new ConfigGetQuery(ServiceIntentions.Kind, name), new ReadOptions(0, TimeSpan.Zero, Cluster.Server.Nodes.Consistency.Default), request.Aborted);
            var stored = read.Result;
            ConfigOp op;
            switch (edit(stored is null ? null : IntentionSet.Read(stored)))
            {
                case null:
                    return false;
                case EntryChange.Unchanged:
                    return true;
                case EntryChange.Write write:
                    op = new ConfigOp
                    {
                        Verb = ConfigOp.Types.Verb.Cas,
                        Index = stored?.ModifyIndex ?? 0, // 0: create only, so a racing create is caught too
                        Entry = new ConfigEntry { Kind = ServiceIntentions.Kind, Name = name, Json = ServiceIntentionsJson.ToJson(write.Entry).ToJsonString() },
                    };
                    break;
                default:
                    op = new ConfigOp { Verb = ConfigOp.Types.Verb.DeleteCas, Index = stored!.ModifyIndex, Entry = new ConfigEntry { Kind = ServiceIntentions.Kind, Name = name } };
                    break;
            }

            var (_, result) = await ApplyOrRefuseAsync(new Command { Config = op }, request);
            if (result.Ok)
            {
                return true;
            }
        }

        throw new ApiException(StatusCodes.Status409Conflict, $"the intentions of {destination} kept changing during this write ({EditAttempts} attempts); nothing was written, try again");
    }

    /// <summary>A <c>source</c> or <c>destination</c> query parameter: exactly one, not empty.</summary>
    private static (string Peer, ServiceName Name) Target(ApiRequest request, string parameter, bool allowPeer = false)
    {
        var values = request.Http.Request.Query[parameter];
        if (values.Count != 1 || string.IsNullOrEmpty(values[0]))
        {
            throw ApiException.BadRequest($"required query parameter '{parameter}' not set");
        }

        return ParseTarget(values[0]!, request.Query("ns"), allowPeer, parameter);
    }

    /// <summary>
    /// Consul's naming of an intention's side: <c>name</c>, <c>namespace/name</c>,
    /// <c>partition/namespace/name</c>, or <c>peer:PEER/name</c> and <c>peer:PEER/namespace/name</c>
    /// where a peer may be named. The namespace defaults to <c>?ns</c>, else "default".
    /// </summary>
    private static (string Peer, ServiceName Name) ParseTarget(string input, string? defaultNamespace, bool allowPeer, string what)
    {
        var peer = "";
        var parts = input.Split('/');
        if (parts[0].StartsWith("peer:", StringComparison.Ordinal))
        {
            if (!allowPeer)
            {
                throw ApiException.BadRequest($"{what} \"{input}\" is invalid: cannot specify a peer here");
            }

            peer = parts[0]["peer:".Length..];
            parts = parts[1..];
            if (parts.Length is 0 or > 2 || peer.Length == 0)
            {
                throw ApiException.BadRequest($"{what} \"{input}\" is invalid: need to specify the peer and the service name");
            }
        }

        var ns = string.IsNullOrEmpty(defaultNamespace) ? IntentionValidation.DefaultNamespace : defaultNamespace;
        var name = parts switch
        {
            [var only] => new ServiceName(ns, only),
            [var space, var only] => new ServiceName(space, only),
            [var partition, var space, var only] when peer.Length == 0 && partition is "default" or "" => new ServiceName(space, only),
            [_, _, _] when peer.Length == 0 => throw ApiException.BadRequest($"{what} \"{input}\" is invalid: admin partitions are not supported (only \"default\")"),
            _ => throw ApiException.BadRequest($"{what} \"{input}\" is invalid: input can contain at most two '/'"),
        };
        if (name.Name.Length == 0 || name.Namespace.Length == 0)
        {
            throw ApiException.BadRequest($"{what} \"{input}\" is invalid: a namespace or name is empty");
        }

        return (peer, name);
    }

    /// <summary>A legacy body's source and destination, checked as Consul's Intention.Validate checks them before anything is read.</summary>
    private static (ServiceName Source, ServiceName Destination) LegacyNames(ApiRequest request, IntentionBody body)
    {
        if (body.SourcePeer.Length > 0)
        {
            throw ApiException.BadRequest("SourcePeer field is not supported on this endpoint. Use config entries instead");
        }

        if (body.SourcePartition is not ("" or "default") || body.DestinationPartition is not ("" or "default"))
        {
            throw ApiException.BadRequest($"Cannot specify a {(body.SourcePartition is "" or "default" ? "destination" : "source")} partition with this endpoint");
        }

        if (body.SourceName.Length == 0 || body.DestinationName.Length == 0)
        {
            throw ApiException.BadRequest($"{(body.SourceName.Length == 0 ? "SourceName" : "DestinationName")} must be set");
        }

        if (body.Action is not (IntentionActions.Allow or IntentionActions.Deny))
        {
            throw ApiException.BadRequest("Action must be set to 'allow' or 'deny'");
        }

        if (body.Permissions.Length > 0)
        {
            throw ApiException.BadRequest("Permissions cannot be set through the legacy intention API: use PUT /v1/connect/intentions/exact or a service-intentions config entry");
        }

        var ns = request.Query("ns") is { Length: > 0 } given ? given : IntentionValidation.DefaultNamespace;
        return (new ServiceName(body.SourceNamespace.Length > 0 ? body.SourceNamespace : ns, body.SourceName),
            new ServiceName(body.DestinationNamespace.Length > 0 ? body.DestinationNamespace : ns, body.DestinationName));
    }

    private static SourceIntention LegacySource(IntentionBody body, ServiceName source, string id, DateTimeOffset now) => new()
    {
        Name = source,
        Action = body.Action,
        Type = body.SourceType,
        Description = body.Description,
        LegacyId = id,
        LegacyMeta = body.Meta,
        LegacyCreateTime = now,
        LegacyUpdateTime = now,
    };
}
