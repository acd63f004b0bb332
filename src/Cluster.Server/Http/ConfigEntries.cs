using System.Text.Json.Nodes;
using Cluster.Server.Wire;

namespace Cluster.Server.Http;

/// <summary>
/// Config entries: the kinds accepted so far, their fields (Consul's names; snake_case as HCL
/// writes them is accepted and normalised), and validation. An entry is stored as normalised JSON.
/// </summary>
public static class ConfigEntries
{
    public const string ProxyDefaults = "proxy-defaults";
    public const string ServiceDefaults = "service-defaults";

    private static readonly string[] Common = ["Kind", "Name", "Namespace", "Partition", "Meta", "Mode", "TransparentProxy", "MeshGateway", "Expose", "EnvoyExtensions"];

    private static readonly Dictionary<string, string[]> Fields = new(StringComparer.Ordinal)
    {
        [ProxyDefaults] = [.. Common, "Config", "AccessLogs", "FailoverPolicy", "PrioritizeByLocality", "MutualTLSMode"],
        [ServiceDefaults] = [.. Common, "Protocol", "MutualTLSMode", "ExternalSNI", "UpstreamConfig", "Destination", "MaxInboundConnections", "LocalConnectTimeoutMs", "LocalRequestTimeoutMs", "BalanceInboundConnections", "RateLimits"],
    };

    private static readonly HashSet<string> Protocols = new(StringComparer.Ordinal) { "tcp", "http", "http2", "grpc" };

    public static string NormalizeKind(string kind) => kind.ToLowerInvariant() switch
    {
        ProxyDefaults or "proxydefaults" => ProxyDefaults,
        ServiceDefaults or "servicedefaults" => ServiceDefaults,
        var other => throw ApiException.BadRequest($"invalid config entry kind: {other}"),
    };

    /// <summary>The entry to store, or a 400 naming the first problem.</summary>
    public static ConfigEntry Validate(JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var normalized = new JsonObject();
        foreach (var (key, value) in body)
        {
            normalized[Pascal(key)] = value?.DeepClone();
        }

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

    /// <summary>"mesh_gateway" → "MeshGateway"; names already in Consul's case pass through.</summary>
    private static string Pascal(string key)
    {
        if (!key.Contains('_', StringComparison.Ordinal) && key.Length > 0 && char.IsUpper(key[0]))
        {
            return key;
        }

        var known = Fields.Values.SelectMany(f => f).FirstOrDefault(f => string.Equals(f, key.Replace("_", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase));
        return known ?? key;
    }
}
