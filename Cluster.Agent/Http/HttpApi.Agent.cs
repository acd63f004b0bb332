using System.Globalization;
using System.Text.Json.Nodes;
using Cluster.Actors;
using Cluster.Agent.Config;
using Cluster.Agent.Local;
using Cluster.Gossip.Core;
using Cluster.Gossip.Wire;
using Cluster.Server.Nodes;
using static Cluster.Agent.Http.JsonFields;

#pragma warning disable CA1507 // JSON field names that happen to match member names are Consul's, not ours

namespace Cluster.Agent.Http;

/// <summary>/v1/agent: this agent's own view (members, its services and checks, TTL updates).</summary>
public sealed partial class HttpApi
{
    private void MapAgent()
    {
        Map("GET", "/v1/agent/self", AgentSelfAsync);
        Map("GET", "/v1/agent/members", AgentMembersAsync);
        Map("GET", "/v1/agent/actors", AgentActorsAsync);
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
        Map("PUT", "/v1/agent/maintenance", AgentMaintenanceAsync);
        Map("PUT", "/v1/agent/service/maintenance/*", AgentServiceMaintenanceAsync);
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
        var self = Node.Lan.Members.FirstOrDefault(m => m.Name == Node.Lan.Name);
        var stats = Node.RaftStats;
        await request.WriteJsonAsync(new JsonObject
        {
            ["Config"] = new JsonObject
            {
                ["Datacenter"] = Datacenter,
                ["PrimaryDatacenter"] = Datacenter,
                ["NodeName"] = Node.NodeName,
                ["NodeID"] = Node.NodeId,
                ["Revision"] = "cluster",
                ["Server"] = Node.IsServer,
                ["Version"] = ServerNode.BuildVersion,
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
                ["actors"] = Actors?.Status() is { } actors
                    ? new JsonObject
                    {
                        ["address"] = actors.Address,
                        ["status"] = actors.Status,
                        ["members"] = actors.Members.Length.ToString(CultureInfo.InvariantCulture),
                        ["unreachable"] = actors.Members.Count(m => !m.Reachable).ToString(CultureInfo.InvariantCulture),
                        ["incarnations"] = actors.Incarnations.ToString(CultureInfo.InvariantCulture),
                    }
                    : null,
            },
            ["Meta"] = new JsonObject(),
        });
    }

    /// <summary>
    /// Ours (Consul has no actor cluster): this agent's view of the datacenter's Akka cluster, a
    /// hash-blocking read like /v1/agent/members, so an operator or a test waits on a change.
    /// </summary>
    private Task AgentActorsAsync(ApiRequest request)
    {
        var actors = Actors ?? throw ApiException.NotFound("this agent runs no actor node");
        return HashedAsync(request, () => actors.Changed, () => ActorsJson(actors.Status()));
    }

    private static JsonObject ActorsJson(ActorNodeStatus status) => new()
    {
        ["Address"] = status.Address,
        ["Status"] = status.Status,
        ["Incarnations"] = status.Incarnations,
        ["Leader"] = status.Leader,
        ["Members"] = new JsonArray([.. status.Members.Select(m => (JsonNode)new JsonObject
        {
            ["Address"] = m.Address,
            ["Status"] = m.Status,
            ["Reachable"] = m.Reachable,
        })]),
    };

    private Task AgentMembersAsync(ApiRequest request) =>
        HashedAsync(request, () => Node.Lan.Changed, () => new JsonArray([.. Node.Lan.Members.OrderBy(m => m.Name, StringComparer.Ordinal).Select(m => (JsonNode)Member(m))]));

    private Task AgentServicesAsync(ApiRequest request) =>
        HashedAsync(request, () => Agent.Changed, () =>
        {
            var json = new JsonObject();
            foreach (var service in Agent.Services)
            {
                json[service.Id] = ConsulJson.AgentService(service, Datacenter);
            }

            return json;
        });

    private Task AgentServiceAsync(ApiRequest request) =>
        HashedAsync(request, () => Agent.Changed, () =>
        {
            var service = Agent.Services.FirstOrDefault(s => s.Id == request.Rest)
                ?? throw ApiException.NotFound($"unknown service ID: {request.Rest}");
            return ConsulJson.AgentService(service, Datacenter);
        });

    private Task AgentChecksAsync(ApiRequest request) =>
        HashedAsync(request, () => Agent.Changed, () =>
        {
            var json = new JsonObject();
            foreach (var check in Agent.Checks)
            {
                json[check.Id] = ConsulJson.Check(check);
            }

            return json;
        });

    /// <summary>
    /// Agent-local blocking (Consul's ?hash): the answer carries X-Consul-ContentHash; a request
    /// that sends the current hash waits (up to ?wait) until local state changes it.
    /// </summary>
    private static async Task HashedAsync(ApiRequest request, Func<Task> changed, Func<JsonNode> render)
    {
        var wanted = request.Query("hash");
        var signal = changed();
        var json = render();
        var hash = ContentHash(json);
        if (wanted is { Length: > 0 } && wanted == hash)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(request.Aborted);
            deadline.CancelAfter(request.Wait);
            while (hash == wanted)
            {
                try
                {
                    await signal.WaitAsync(deadline.Token);
                }
                catch (OperationCanceledException) when (!request.Aborted.IsCancellationRequested)
                {
                    break; // the wait ran out: answer with what is current
                }

                signal = changed();
                json = render();
                hash = ContentHash(json);
            }
        }

        request.Http.Response.Headers["X-Consul-ContentHash"] = hash;
        await request.WriteJsonAsync(json);
    }

    private static string ContentHash(JsonNode json) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(json.ToJsonString())).AsSpan(0, 8));

    private async Task AgentMaintenanceAsync(ApiRequest request)
    {
        var enable = MaintenanceFlag(request);
        await Agent.SetNodeMaintenanceAsync(enable, request.Query("reason"), request.Aborted);
    }

    private async Task AgentServiceMaintenanceAsync(ApiRequest request)
    {
        var enable = MaintenanceFlag(request);
        try
        {
            await Agent.SetServiceMaintenanceAsync(request.Rest, enable, request.Query("reason"), request.Aborted);
        }
        catch (KeyNotFoundException e)
        {
            throw ApiException.NotFound(e.Message);
        }
    }

    private static bool MaintenanceFlag(ApiRequest request) =>
        request.Query("enable") switch
        {
            null or "" => throw ApiException.BadRequest("Missing value for enable"),
            var text => GoBool.TryParse(text, out var value) ? value : throw ApiException.BadRequest($"Invalid value for enable: \"{text}\""),
        };

    private async Task AgentServiceRegisterAsync(ApiRequest request)
    {
        await RegisterServiceBodyAsync((await request.JsonBodyAsync())!, request.Aborted);
        request.Http.Response.StatusCode = 200;
    }

    /// <summary>
    /// Registers what was saved in the data directory (API registrations of an earlier run);
    /// returns how many, and the files that could not be read or no longer register.
    /// </summary>
    public async Task<(int Restored, IReadOnlyList<string> Failed)> RestoreRegistrationsAsync(CancellationToken cancellationToken)
    {
        if (Agent.Persisted is not { } store)
        {
            return (0, []);
        }

        var restored = 0;
        var failed = new List<string>();
        var (services, badServices) = store.Load(RegistrationStore.Services);
        var (checks, badChecks) = store.Load(RegistrationStore.Checks);
        failed.AddRange(badServices);
        failed.AddRange(badChecks);
        foreach (var (bodies, register) in new (IReadOnlyList<JsonObject>, Func<JsonObject, CancellationToken, Task>)[] { (services, RegisterServiceBodyAsync), (checks, RegisterCheckBodyAsync) })
        {
            foreach (var body in bodies)
            {
                try
                {
                    await register(body, cancellationToken);
                    restored++;
                }
                catch (ApiException e)
                {
                    failed.Add(e.Message);
                }
            }
        }

        return (restored, failed);
    }

    private async Task RegisterServiceBodyAsync(JsonObject body, CancellationToken cancellationToken)
    {
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

        var checks = new List<LocalCheckSpec>();
        for (var i = 0; i < definitions.Count; i++)
        {
            var spec = AgentCheck(definitions[i], service.Id);
            var check = spec.Check;
            if (check.Id.Length == 0)
            {
                check.Id = definitions.Count == 1 ? $"service:{service.Id}" : $"service:{service.Id}:{i + 1}";
            }

            if (check.Name.Length == 0)
            {
                check.Name = $"Service '{service.Name}' check";
            }

            checks.Add(spec with { Definition = spec.Definition with { Id = check.Id, Name = check.Name } });
        }

        try
        {
            await Agent.RegisterServiceAsync(service, checks, cancellationToken);
        }
        catch (ArgumentException e)
        {
            throw ApiException.BadRequest($"Invalid check: {e.Message}");
        }

        Agent.Persisted?.Save(RegistrationStore.Services, service.Id.Length > 0 ? service.Id : service.Name, body);
    }

    /// <summary>A check definition sent to the agent: the catalog's view and how the agent runs it.</summary>
    private LocalCheckSpec AgentCheck(JsonObject json, string serviceId)
    {
        var check = Decode.Check(json, serviceId);
        var ttl = Duration(json, "TTL");
        if (ttl is { } t && t <= TimeSpan.Zero)
        {
            throw ApiException.BadRequest("TTL must be > 0");
        }

        var args = Strings(json, "Args") is { Count: > 0 } a ? a : Strings(json, "ScriptArgs");
        var headers = new List<KeyValuePair<string, ValueList<string>>>();
        if (Obj(json, "Header") is { } header)
        {
            foreach (var (name, values) in header)
            {
                var list = values as JsonArray ?? throw ApiException.BadRequest($"Request decode failed: Header.{name}: expected a list of strings");
                headers.Add(new(name, ValueList.From(list.Select(v => v is JsonValue value && value.TryGetValue<string>(out var text) ? text : throw ApiException.BadRequest($"Request decode failed: Header.{name}: expected strings")))));
            }
        }

        var definition = new CheckDefinition
        {
            Id = check.Id,
            Name = check.Name,
            ServiceId = check.ServiceId.Length > 0 ? check.ServiceId : null,
            Status = check.Status.Length > 0 ? check.Status : "critical",
            Http = Optional(json, "HTTP"),
            Method = Optional(json, "Method"),
            Header = ValueDictionary.From(headers),
            Tcp = Optional(json, "TCP"),
            Grpc = Optional(json, "GRPC"),
            GrpcUseTls = Bool(json, "GRPCUseTLS"),
            Ttl = ttl,
            Interval = Duration(json, "Interval"),
            Timeout = Duration(json, "Timeout"),
            DeregisterCriticalServiceAfter = Duration(json, "DeregisterCriticalServiceAfter"),
            Args = ValueList.From(args),
            AliasNode = Optional(json, "AliasNode"),
            AliasService = Optional(json, "AliasService"),
            SuccessBeforePassing = Int32Number(json, "SuccessBeforePassing"),
            FailuresBeforeCritical = Int32Number(json, "FailuresBeforeCritical"),
            TlsSkipVerify = Bool(json, "TLSSkipVerify"),
        };
        if (definition.Kind == CheckKind.Script && !Agent.Options.EnableScriptChecks)
        {
            throw ApiException.BadRequest("Scripts are disabled on this agent; to enable, configure 'enable_script_checks' to true");
        }

        var runs = definition.Kind != CheckKind.Ttl;
        if (ttl is null && !runs)
        {
            throw ApiException.BadRequest("Invalid check: TTL, HTTP, TCP, GRPC, Args or AliasService must be set");
        }

        if (runs && definition.Kind != CheckKind.Alias && definition.Interval is not { } interval)
        {
            throw ApiException.BadRequest($"Invalid check: {definition.Kind.ToString().ToUpperInvariant()} checks need an Interval");
        }

        if (definition.Interval is { } every && every <= TimeSpan.Zero)
        {
            throw ApiException.BadRequest("Interval must be > 0");
        }

        if (definition.SuccessBeforePassing < 0 || definition.FailuresBeforeCritical < 0)
        {
            throw ApiException.BadRequest("SuccessBeforePassing and FailuresBeforeCritical must not be negative");
        }

        var shown = new JsonObject();
        foreach (var field in new[] { "HTTP", "TCP", "GRPC", "TTL", "Interval", "Timeout", "DeregisterCriticalServiceAfter", "Method", "TLSSkipVerify", "AliasNode", "AliasService" })
        {
            if (json[field] is { } value)
            {
                shown[field] = value.DeepClone();
            }
        }

        check.DefinitionJson = shown.ToJsonString();
        if (check.Type.Length == 0)
        {
            check.Type = definition.Kind switch { CheckKind.Script => "script", CheckKind.Http => "http", CheckKind.Tcp => "tcp", CheckKind.Grpc => "grpc", CheckKind.Alias => "alias", _ => "ttl" };
        }

        return new LocalCheckSpec(check, definition);
    }

    private static string? Optional(JsonObject json, string name) => Str(json, name) is { Length: > 0 } text ? text : null;

    private async Task AgentServiceDeregisterAsync(ApiRequest request)
    {
        if (!await Agent.DeregisterServiceAsync(request.Rest, request.Aborted))
        {
            throw ApiException.NotFound($"Unknown service ID \"{request.Rest}\". Ensure that the service ID is passed, not the service name.");
        }
    }

    private async Task AgentCheckRegisterAsync(ApiRequest request) => await RegisterCheckBodyAsync((await request.JsonBodyAsync())!, request.Aborted);

    private async Task RegisterCheckBodyAsync(JsonObject body, CancellationToken cancellationToken)
    {
        var spec = AgentCheck(body, "");
        var check = spec.Check;
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
            await Agent.RegisterCheckAsync(spec with { Definition = spec.Definition with { Id = check.Id, Name = check.Name } }, cancellationToken);
        }
        catch (KeyNotFoundException e)
        {
            throw ApiException.BadRequest(e.Message);
        }
        catch (ArgumentException e)
        {
            throw ApiException.BadRequest($"Invalid check: {e.Message}");
        }

        Agent.Persisted?.Save(RegistrationStore.Checks, check.Id, body);
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
        if (await Node.Lan.JoinAsync([address]) == 0)
        {
            throw new ApiException(500, $"failed to join {request.Rest}");
        }
    }
}
