using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Server.State;
using Cluster.Contracts.State;
using Google.Protobuf.Collections;

namespace Cluster.Agent.Http;

/// <summary>Stored entries rendered with Consul's JSON field names and shapes.</summary>
public static class ConsulJson
{
    public static JsonObject Node(Contracts.State.Node node) => new()
    {
        ["ID"] = node.Id,
        ["Node"] = node.Name,
        ["Address"] = node.Address,
        ["Datacenter"] = node.Datacenter,
        ["TaggedAddresses"] = Map(node.TaggedAddresses),
        ["Meta"] = Map(node.Meta),
        ["CreateIndex"] = node.CreateIndex,
        ["ModifyIndex"] = node.ModifyIndex,
    };

    /// <summary>An instance as /v1/agent/services and /v1/health/service show it.</summary>
    public static JsonObject AgentService(Service service, string datacenter)
    {
        var json = new JsonObject
        {
            ["ID"] = service.Id,
            ["Service"] = service.Name,
            ["Tags"] = Strings(service.Tags),
            ["Address"] = service.Address,
            ["Meta"] = Map(service.Meta),
            ["Port"] = service.Port,
            ["Weights"] = new JsonObject { ["Passing"] = Weight(service.WeightPassing), ["Warning"] = Weight(service.WeightWarning) },
            ["EnableTagOverride"] = service.EnableTagOverride,
            ["Datacenter"] = datacenter,
            ["CreateIndex"] = service.CreateIndex,
            ["ModifyIndex"] = service.ModifyIndex,
        };
        if (service.Kind.Length > 0)
        {
            json["Kind"] = service.Kind;
        }

        if (service.TaggedAddressesJson.Count > 0)
        {
            json["TaggedAddresses"] = TaggedAddresses(service.TaggedAddressesJson);
        }

        if (service.ProxyJson.Length > 0)
        {
            json["Proxy"] = JsonNode.Parse(service.ProxyJson);
        }

        if (service.ConnectJson.Length > 0)
        {
            json["Connect"] = JsonNode.Parse(service.ConnectJson);
        }

        return json;
    }

    /// <summary>An instance joined with its node, as /v1/catalog/service/:s shows it.</summary>
    public static JsonObject ServiceNode(Contracts.State.Node node, Service service) => new()
    {
        ["ID"] = node.Id,
        ["Node"] = node.Name,
        ["Address"] = node.Address,
        ["Datacenter"] = node.Datacenter,
        ["TaggedAddresses"] = Map(node.TaggedAddresses),
        ["NodeMeta"] = Map(node.Meta),
        ["ServiceKind"] = service.Kind,
        ["ServiceID"] = service.Id,
        ["ServiceName"] = service.Name,
        ["ServiceTags"] = Strings(service.Tags),
        ["ServiceAddress"] = service.Address,
        ["ServiceTaggedAddresses"] = service.TaggedAddressesJson.Count > 0 ? TaggedAddresses(service.TaggedAddressesJson) : null,
        ["ServiceWeights"] = new JsonObject { ["Passing"] = Weight(service.WeightPassing), ["Warning"] = Weight(service.WeightWarning) },
        ["ServiceMeta"] = Map(service.Meta),
        ["ServicePort"] = service.Port,
        ["ServiceEnableTagOverride"] = service.EnableTagOverride,
        ["ServiceProxy"] = service.ProxyJson.Length > 0 ? JsonNode.Parse(service.ProxyJson) : new JsonObject(),
        ["ServiceConnect"] = service.ConnectJson.Length > 0 ? JsonNode.Parse(service.ConnectJson) : new JsonObject(),
        ["CreateIndex"] = service.CreateIndex,
        ["ModifyIndex"] = service.ModifyIndex,
    };

    public static JsonObject Check(Check check) => new()
    {
        ["Node"] = check.Node,
        ["CheckID"] = check.Id,
        ["Name"] = check.Name,
        ["Status"] = check.Status,
        ["Notes"] = check.Notes,
        ["Output"] = check.Output,
        ["ServiceID"] = check.ServiceId,
        ["ServiceName"] = check.ServiceName,
        ["ServiceTags"] = Strings(check.ServiceTags),
        ["Type"] = check.Type,
        ["Interval"] = check.Interval,
        ["Timeout"] = check.Timeout,
        ["Definition"] = check.DefinitionJson.Length > 0 ? JsonNode.Parse(check.DefinitionJson) : new JsonObject(),
        ["CreateIndex"] = check.CreateIndex,
        ["ModifyIndex"] = check.ModifyIndex,
    };

    public static JsonObject Session(Session session)
    {
        var nodeChecks = Strings(session.NodeChecks);
        return new JsonObject
        {
            ["ID"] = session.Id,
            ["Name"] = session.Name,
            ["Node"] = session.Node,
            ["LockDelay"] = session.LockDelayNs,
            ["Behavior"] = session.Behavior,
            ["TTL"] = session.Ttl,
            ["NodeChecks"] = nodeChecks,
            ["ServiceChecks"] = session.ServiceChecks.Count == 0 ? null : new JsonArray([.. session.ServiceChecks.Select(c => (JsonNode)new JsonObject { ["ID"] = c.Id, ["Namespace"] = c.Namespace })]),
            ["Checks"] = Strings(session.NodeChecks.Concat(session.ServiceChecks.Select(c => c.Id))),
            ["CreateIndex"] = session.CreateIndex,
            ["ModifyIndex"] = session.ModifyIndex,
        };
    }

    public static JsonObject ConfigEntry(ConfigEntry entry)
    {
        var json = JsonNode.Parse(entry.Json)!.AsObject();
        json["CreateIndex"] = entry.CreateIndex;
        json["ModifyIndex"] = entry.ModifyIndex;
        return json;
    }

    /// <summary>A KV entry; Session only when held, Value null when empty (as Consul's omitempty/[]byte give).</summary>
    public static void WriteKv(Utf8JsonWriter writer, KvEntry entry, bool withValue = true)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(entry);
        writer.WriteStartObject();
        writer.WriteNumber("LockIndex", entry.LockIndex);
        writer.WriteString("Key", entry.Key);
        writer.WriteNumber("Flags", entry.Flags);
        if (withValue && !entry.Value.IsEmpty)
        {
            writer.WriteBase64String("Value", entry.Value.Span);
        }
        else
        {
            writer.WriteNull("Value");
        }

        if (entry.Session.Length > 0)
        {
            writer.WriteString("Session", entry.Session);
        }

        writer.WriteNumber("CreateIndex", entry.CreateIndex);
        writer.WriteNumber("ModifyIndex", entry.ModifyIndex);
        writer.WriteEndObject();
    }

    public static JsonObject Kv(KvEntry entry, bool withValue = true)
    {
        var json = new JsonObject
        {
            ["LockIndex"] = entry.LockIndex,
            ["Key"] = entry.Key,
            ["Flags"] = entry.Flags,
            ["Value"] = withValue && !entry.Value.IsEmpty ? entry.Value.ToBase64() : null,
        };
        if (entry.Session.Length > 0)
        {
            json["Session"] = entry.Session;
        }

        json["CreateIndex"] = entry.CreateIndex;
        json["ModifyIndex"] = entry.ModifyIndex;
        return json;
    }

    public static JsonObject HealthEntry(ServiceInstance instance, string datacenter) => new()
    {
        ["Node"] = Node(instance.Node),
        ["Service"] = AgentService(instance.Service, datacenter),
        ["Checks"] = new JsonArray([.. instance.Checks.Select(c => (JsonNode)Check(c))]),
    };

    private static int Weight(int value) => value == 0 ? 1 : value;

    private static JsonObject Map(MapField<string, string> map)
    {
        var json = new JsonObject();
        foreach (var (key, value) in map.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            json[key] = value;
        }

        return json;
    }

    private static JsonObject TaggedAddresses(MapField<string, string> map)
    {
        var json = new JsonObject();
        foreach (var (key, value) in map.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            json[key] = JsonNode.Parse(value);
        }

        return json;
    }

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)JsonValue.Create(v)!)]);
}
