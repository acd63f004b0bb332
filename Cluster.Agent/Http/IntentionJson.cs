using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Cluster.Agent.Connect;
using static Cluster.Agent.Http.JsonFields;

namespace Cluster.Agent.Http;

/// <summary>What an intention body (POST, PUT by ID, PUT exact) carries, in Consul's flattened field names.</summary>
internal sealed record IntentionBody(
    string Id,
    string SourceNamespace,
    string SourceName,
    string SourcePartition,
    string SourcePeer,
    string DestinationNamespace,
    string DestinationName,
    string DestinationPartition,
    string SourceType,
    string Action,
    ImmutableArray<IntentionPermission> Permissions,
    string Description,
    ImmutableSortedDictionary<string, string> Meta);

/// <summary>
/// Intentions in the shape of Consul's flattened <c>Intention</c>: one source of an entry with its
/// destination's names beside it. Read leniently as Go's decoder reads it (any case; fields it does
/// not know, such as CreatedAt or Hash sent back by a client, ignored) but strictly typed.
/// </summary>
internal static class IntentionJson
{
    public static JsonObject Render(Intention intention)
    {
        var source = intention.Source;
        var json = new JsonObject();
        if (intention.Id.Length > 0)
        {
            json["ID"] = intention.Id;
        }

        json["Description"] = source.Description;
        if (source.Peer.Length > 0)
        {
            json["SourcePeer"] = source.Peer;
        }

        json["SourceNS"] = source.Name.Namespace;
        json["SourceName"] = source.Name.Name;
        json["DestinationNS"] = intention.Destination.Namespace;
        json["DestinationName"] = intention.Destination.Name;
        json["SourceType"] = source.Type;
        if (source.Action.Length > 0)
        {
            json["Action"] = source.Action;
        }

        if (source.Permissions.Length > 0)
        {
            json["Permissions"] = ServiceIntentionsJson.PermissionsJson(source.Permissions);
        }

        var meta = new JsonObject();
        foreach (var (key, value) in intention.Meta)
        {
            meta[key] = value;
        }

        json["Meta"] = meta;
        json["Precedence"] = source.Precedence;
        if (source.LegacyCreateTime is { } created)
        {
            json["CreatedAt"] = ServiceIntentionsJson.Time(created);
        }

        if (source.LegacyUpdateTime is { } updated)
        {
            json["UpdatedAt"] = ServiceIntentionsJson.Time(updated);
        }

        json["CreateIndex"] = intention.CreateIndex;
        json["ModifyIndex"] = intention.ModifyIndex;
        return json;
    }

    public static IntentionBody Decode(JsonObject body)
    {
        var meta = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        if (Obj(body, "Meta") is { } map)
        {
            foreach (var (key, value) in map)
            {
                meta[key] = value is JsonValue v && v.TryGetValue<string>(out var text) ? text : throw ApiException.BadRequest($"Request decode failed: Meta.{key}: expected a string");
            }
        }

        // Permissions hold config entry fields: their names are normalised as a config entry's are.
        var permissions = body["Permissions"] is { } sent
            ? ServiceIntentionsJson.Permissions(ConfigEntries.NormalizeNames(new JsonObject { ["Permissions"] = sent.DeepClone() }), "")
            : [];
        return new IntentionBody(
            Str(body, "ID"),
            Str(body, "SourceNS"),
            Str(body, "SourceName"),
            Str(body, "SourcePartition"),
            Str(body, "SourcePeer"),
            Str(body, "DestinationNS"),
            Str(body, "DestinationName"),
            Str(body, "DestinationPartition"),
            Str(body, "SourceType"),
            Str(body, "Action"),
            permissions,
            Str(body, "Description"),
            meta.ToImmutable());
    }
}
