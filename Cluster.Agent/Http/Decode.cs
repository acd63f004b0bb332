using System.Text.Json.Nodes;
using Cluster.Server.State;
using Cluster.Contracts.State;
using static Cluster.Agent.Http.JsonFields;

namespace Cluster.Agent.Http;

/// <summary>Request bodies in Consul's JSON shapes, decoded into stored entries.</summary>
public static class Decode
{
    /// <summary>A service as /v1/agent/service/register and /v1/catalog/register send it (Name or Service, ID defaulting to the name).</summary>
    public static Service Service(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var service = new Service
        {
            Id = Str(json, "ID"),
            Name = Str(json, "Name", Str(json, "Service")),
            Address = Str(json, "Address"),
            Port = Int32Number(json, "Port"),
            EnableTagOverride = Bool(json, "EnableTagOverride"),
            Kind = Str(json, "Kind"),
        };
        service.Tags.AddRange(Strings(json, "Tags"));
        StringMap(json, "Meta", service.Meta);
        if (Obj(json, "Weights") is { } weights)
        {
            service.WeightPassing = Int32Number(weights, "Passing", 1);
            service.WeightWarning = Int32Number(weights, "Warning", 1);
        }

        if (Obj(json, "Proxy") is { } proxy)
        {
            service.ProxyJson = proxy.ToJsonString();
        }

        if (Obj(json, "Connect") is { } connect)
        {
            service.ConnectJson = connect.ToJsonString();
        }

        if (Obj(json, "TaggedAddresses") is { } tagged)
        {
            foreach (var (key, value) in tagged)
            {
                service.TaggedAddressesJson[key] = value is JsonObject ? value.ToJsonString() : throw ApiException.BadRequest($"Request decode failed: TaggedAddresses.{key}: expected an object");
            }
        }

        if (service.Port is < 0 or > 65535)
        {
            throw ApiException.BadRequest($"Invalid service port {service.Port}");
        }

        if (service.Id.Length == 0)
        {
            service.Id = service.Name;
        }

        NoNul(service.Name, "service name");
        NoNul(service.Id, "service ID");
        return service;
    }

    /// <summary>A check as the catalog stores it (the agent-specific runner fields kept in its definition).</summary>
    public static Check Check(JsonObject json, string defaultServiceId = "")
    {
        ArgumentNullException.ThrowIfNull(json);
        var check = new Check
        {
            Id = Str(json, "CheckID", Str(json, "ID")),
            Name = Str(json, "Name"),
            Status = Str(json, "Status"),
            Notes = Str(json, "Notes"),
            Output = Str(json, "Output"),
            ServiceId = Str(json, "ServiceID", defaultServiceId),
            Type = CheckType(json),
            Interval = Str(json, "Interval"),
            Timeout = Str(json, "Timeout"),
        };
        if (check.Status.Length > 0 && !StateWriter.CheckStatuses.Contains(check.Status))
        {
            throw ApiException.BadRequest($"Invalid check status \"{check.Status}\"");
        }

        NoNul(check.Id, "check ID");
        NoNul(check.Name, "check name");
        if (Obj(json, "Definition") is { } definition)
        {
            check.DefinitionJson = definition.ToJsonString();
        }

        return check;
    }

    private static string CheckType(JsonObject json) =>
        Str(json, "Type") is { Length: > 0 } type ? type
        : json["TTL"] is not null ? "ttl"
        : json["HTTP"] is not null ? "http"
        : json["TCP"] is not null ? "tcp"
        : json["GRPC"] is not null ? "grpc"
        : json["Args"] is not null || json["ScriptArgs"] is not null ? "script"
        : json["AliasService"] is not null || json["AliasNode"] is not null ? "alias"
        : "";

    public static Contracts.State.Node Node(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var node = new Contracts.State.Node
        {
            Id = Str(json, "ID"),
            Name = Str(json, "Node"),
            Address = Str(json, "Address"),
            Datacenter = Str(json, "Datacenter"),
        };
        StringMap(json, "TaggedAddresses", node.TaggedAddresses);
        StringMap(json, "NodeMeta", node.Meta);
        if (node.Id.Length > 0 && !Guid.TryParse(node.Id, out _))
        {
            throw ApiException.BadRequest($"Invalid node ID \"{node.Id}\": must be a UUID");
        }

        NoNul(node.Name, "node name");
        return node;
    }

    /// <summary>
    /// The store joins names with NUL in its index keys, so a name holding one would be read as a
    /// prefix of another's entries (node "a\0b"'s services listed under node "a").
    /// </summary>
    private static void NoNul(string value, string what)
    {
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw ApiException.BadRequest($"Invalid {what}: contains a NUL character");
        }
    }
}
