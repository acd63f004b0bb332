using System.Text.Json.Nodes;
using Cluster.Agent.Connect;
using Cluster.Contracts.State;

namespace Cluster.Agent.Http;

/// <summary>
/// Config entries: the kinds accepted so far (proxy-defaults, service-defaults, service-intentions), their fields (Consul's names; snake_case as HCL
/// writes them is accepted and normalised), and validation. An entry is stored as normalised JSON.
/// </summary>
public static class ConfigEntries
{
    public const string ProxyDefaults = "proxy-defaults";
    public const string ServiceDefaults = "service-defaults";
    public const string ServiceIntentionsKind = ServiceIntentions.Kind;

    private static readonly string[] Common = ["Kind", "Name", "Namespace", "Partition", "Meta", "Mode", "TransparentProxy", "MeshGateway", "Expose", "EnvoyExtensions"];

    private static readonly Dictionary<string, string[]> Fields = new(StringComparer.Ordinal)
    {
        [ProxyDefaults] = [.. Common, "Config", "AccessLogs", "FailoverPolicy", "PrioritizeByLocality", "MutualTLSMode"],
        [ServiceDefaults] = [.. Common, "Protocol", "MutualTLSMode", "ExternalSNI", "UpstreamConfig", "Destination", "MaxInboundConnections", "LocalConnectTimeoutMs", "LocalRequestTimeoutMs", "BalanceInboundConnections", "RateLimits"],
        [ServiceIntentionsKind] = ["Kind", "Name", "Namespace", "Partition", "Meta", "Sources", "JWT"],
    };

    /// <summary>Field names inside the entries' objects (MeshGateway, TransparentProxy, Expose, UpstreamConfig, AccessLogs, RateLimits, ...).</summary>
    private static readonly string[] NestedFields =
    [
        "Mode", "OutboundListenerPort", "DialedDirectly", "Checks", "Paths", "ListenerPort", "Path", "LocalPathPort", "Protocol", "Defaults", "Overrides",
        "Name", "Namespace", "Partition", "Peer", "ConnectTimeoutMs", "Limits", "MaxConnections", "MaxPendingRequests", "MaxConcurrentRequests",
        "PassiveHealthCheck", "Interval", "MaxFailures", "EnforcingConsecutive5xx", "MaxEjectionPercent", "BaseEjectionTime", "BalanceOutboundConnections",
        "Addresses", "Port", "Enabled", "DisableListenerLogs", "Type", "JSONFormat", "TextFormat", "InstanceLevel", "RequestsPerSecond", "RequestsMaxBurst",
        "Routes", "PathExact", "PathPrefix", "PathRegex", "Required", "Arguments", "ConsulVersion", "EnvoyVersion", "Regions", "SamenessGroup",
        "Sources", "Action", "Permissions", "HTTP", "Header", "Methods", "Present", "Exact", "Prefix", "Suffix", "Regex", "Invert", "Precedence",
        "Description", "LegacyID", "LegacyMeta", "LegacyCreateTime", "LegacyUpdateTime", "JWT",
    ];

    /// <summary>Every field name we know, for matching a key written in another case or in snake_case.</summary>
    private static readonly string[] KnownFields = [.. Fields.Values.SelectMany(f => f).Concat(NestedFields).Distinct(StringComparer.Ordinal)];

    /// <summary>Objects whose keys are the user's own and kept as written: Meta (and an intention's LegacyMeta), a proxy's opaque Config, an extension's Arguments.</summary>
    private static readonly HashSet<string> Opaque = new(StringComparer.Ordinal) { "Meta", "LegacyMeta", "Config", "Arguments" };

    private static readonly HashSet<string> Protocols = new(StringComparer.Ordinal) { "tcp", "http", "http2", "grpc" };

    public static string NormalizeKind(string kind) => kind.ToLowerInvariant() switch
    {
        ProxyDefaults or "proxydefaults" => ProxyDefaults,
        ServiceDefaults or "servicedefaults" => ServiceDefaults,
        ServiceIntentionsKind or "serviceintentions" => ServiceIntentionsKind,
        var other => throw ApiException.BadRequest($"invalid config entry kind: {other}"),
    };

    /// <summary>The entry to store, or a 400 naming the first problem.</summary>
    public static ConfigEntry Validate(JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var normalized = NormalizeObject(body);
        var kind = NormalizeKind(JsonFields.Str(normalized, "Kind") is { Length: > 0 } k ? k : throw ApiException.BadRequest("Kind is required"));
        var name = JsonFields.Str(normalized, "Name");
        normalized["Kind"] = kind;
        var allowed = Fields[kind];
        foreach (var (key, _) in normalized)
        {
            if (!allowed.Contains(key, StringComparer.Ordinal) && key is not ("CreateIndex" or "ModifyIndex"))
            {
                throw ApiException.BadRequest($"Request decode failed: invalid config key \"{key}\" for {kind}");
            }
        }

        normalized.Remove("CreateIndex");
        normalized.Remove("ModifyIndex");
        if (kind == ProxyDefaults && name != "global")
        {
            throw ApiException.BadRequest($"invalid name (\"{name}\"), only \"global\" is supported");
        }

        if (name.Length == 0)
        {
            throw ApiException.BadRequest("Name is required");
        }

        if (kind == ServiceIntentionsKind)
        {
            // Consul's normalisation (precedence computed, sources ordered by it) and validation;
            // stored under the destination's name, prefixed by its namespace unless that is the default.
            var intentions = IntentionValidation.Normalize(ServiceIntentionsJson.Parse(normalized), IntentionWrite.ByName);
            return new ConfigEntry { Kind = kind, Name = IntentionEdits.StoreName(intentions.Destination), Json = ServiceIntentionsJson.ToJson(intentions).ToJsonString() };
        }

        if (JsonFields.Obj(normalized, "MeshGateway") is { } gateway)
        {
            var mode = JsonFields.Str(gateway, "Mode");
            if (mode is not ("" or "none" or "local" or "remote"))
            {
                throw ApiException.BadRequest($"Invalid Mesh Gateway mode \"{mode}\"");
            }
        }

        var proxyMode = JsonFields.Str(normalized, "Mode");
        if (proxyMode is not ("" or "direct" or "transparent"))
        {
            throw ApiException.BadRequest($"invalid proxy mode: \"{proxyMode}\"");
        }

        if (kind == ServiceDefaults)
        {
            var protocol = JsonFields.Str(normalized, "Protocol");
            if (protocol.Length > 0 && !Protocols.Contains(protocol))
            {
                throw ApiException.BadRequest($"invalid protocol \"{protocol}\": must be one of tcp, http, http2, grpc");
            }

            if (JsonFields.Number(normalized, "MaxInboundConnections") < 0)
            {
                throw ApiException.BadRequest("invalid value for MaxInboundConnections: must be >= 0");
            }
        }

        if (JsonFields.Obj(normalized, "Meta") is { } meta)
        {
            foreach (var (key, value) in meta)
            {
                _ = value is JsonValue v && v.TryGetValue<string>(out _) ? key : throw ApiException.BadRequest($"Meta.{key}: expected a string");
            }
        }

        if (kind == ProxyDefaults && JsonFields.Obj(normalized, "Config") is null && normalized["Config"] is not null)
        {
            throw ApiException.BadRequest("Config: expected an object");
        }

        return new ConfigEntry { Kind = kind, Name = name, Json = normalized.ToJsonString() };
    }

    /// <summary>An object with Consul's field names at every level (for parts of other bodies that hold config entry fields).</summary>
    internal static JsonObject NormalizeNames(JsonObject json) => NormalizeObject(json);

    /// <summary>The entry with Consul's field names at every level (mesh_gateway.mode → MeshGateway.Mode), opaque objects copied as they are.</summary>
    private static JsonObject NormalizeObject(JsonObject json)
    {
        var normalized = new JsonObject();
        foreach (var (key, value) in json)
        {
            var name = Pascal(key);
            normalized[name] = Opaque.Contains(name) ? value?.DeepClone() : Normalize(value);
        }

        return normalized;
    }

    private static JsonNode? Normalize(JsonNode? node) => node switch
    {
        JsonObject obj => NormalizeObject(obj),
        JsonArray array => new JsonArray([.. array.Select(Normalize)]),
        _ => node?.DeepClone(),
    };

    /// <summary>"mesh_gateway", "meshGateway" or "MESHGATEWAY" → "MeshGateway"; an unknown name stays as written.</summary>
    private static string Pascal(string key)
    {
        var bare = key.Replace("_", "", StringComparison.Ordinal);
        return KnownFields.FirstOrDefault(f => string.Equals(f, bare, StringComparison.OrdinalIgnoreCase)) ?? key;
    }
}
