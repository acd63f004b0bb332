using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Server.Connect;
using Cluster.Server.Nodes;

namespace Cluster.Agent.Connect;

/// <summary>
/// A service-intentions entry to and from JSON with Consul's field names. Reading is strict: a key
/// it does not know or a value of the wrong type is refused with its path
/// (<c>Sources[0].Permissions[1].HTTP.Methods</c>), as a 400 (<see cref="InvalidRequestException"/>).
/// Writing gives the one stored form: defaults and empty values left out, so a write that changes
/// nothing stores the same text.
/// </summary>
public static class ServiceIntentionsJson
{
    private static readonly string[] EntryKeys = ["Kind", "Name", "Namespace", "Partition", "Meta", "Sources", "JWT"];

    private static readonly string[] SourceKeys =
    [
        "Name", "Namespace", "Partition", "Peer", "SamenessGroup", "Action", "Permissions", "Precedence", "Type", "Description",
        "LegacyID", "LegacyMeta", "LegacyCreateTime", "LegacyUpdateTime",
    ];

    private static readonly string[] PermissionKeys = ["Action", "HTTP", "JWT"];

    private static readonly string[] HttpKeys = ["PathExact", "PathPrefix", "PathRegex", "Header", "Methods"];

    private static readonly string[] HeaderKeys = ["Name", "Present", "Exact", "Prefix", "Suffix", "Regex", "Invert"];

    /// <summary>
    /// The entry in <paramref name="json"/> (Consul's field names, as <c>ConfigEntries</c> normalises
    /// them), as written: namespaces left empty stay empty until <see cref="IntentionValidation.Normalize"/> fills them.
    /// </summary>
    public static ServiceIntentions Parse(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        Known(json, "", EntryKeys);
        NoJwt(json, "");
        NoPartition(json, "");
        var destination = new ServiceName(Str(json, "", "Namespace"), Str(json, "", "Name"));
        var sources = ImmutableArray.CreateBuilder<SourceIntention>();
        var index = 0;
        foreach (var item in Arr(json, "", "Sources"))
        {
            sources.Add(Source(item as JsonObject ?? throw Bad($"Sources[{index}]: expected an object"), $"Sources[{index}]."));
            index++;
        }

        return new ServiceIntentions(destination, Map(json, "", "Meta") ?? Empty, sources.ToImmutable());
    }

    /// <summary>The stored form of a normalised entry.</summary>
    public static JsonObject ToJson(ServiceIntentions entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var json = new JsonObject { ["Kind"] = ServiceIntentions.Kind, ["Name"] = entry.Destination.Name };
        if (entry.Destination.Namespace != IntentionValidation.DefaultNamespace)
        {
            json["Namespace"] = entry.Destination.Namespace;
        }

        if (entry.Meta.Count > 0)
        {
            json["Meta"] = MapJson(entry.Meta);
        }

        var inherited = IntentionValidation.InheritedNamespace(entry.Destination);
        json["Sources"] = new JsonArray([.. entry.Sources.Select(s => (JsonNode)SourceJson(s, s.Peer.Length > 0 ? IntentionValidation.DefaultNamespace : inherited))]);
        return json;
    }

    /// <summary>Permissions as Consul shows them (in an entry and in a flattened intention).</summary>
    public static JsonArray PermissionsJson(IEnumerable<IntentionPermission> permissions) =>
        new([.. permissions.Select(p => (JsonNode)PermissionJson(p))]);

    /// <summary>Consul's time format (RFC 3339 in UTC, fractional seconds only when there are any).</summary>
    public static string Time(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    /// <summary>Reads the L7 permissions of a source or a flattened intention.</summary>
    public static ImmutableArray<IntentionPermission> Permissions(JsonObject json, string path)
    {
        ArgumentNullException.ThrowIfNull(json);
        var permissions = ImmutableArray.CreateBuilder<IntentionPermission>();
        var index = 0;
        foreach (var item in Arr(json, path, "Permissions"))
        {
            var at = $"{path}Permissions[{index}]";
            var permission = item as JsonObject ?? throw Bad($"{at}: expected an object");
            Known(permission, at + ".", PermissionKeys);
            NoJwt(permission, at + ".");
            var http = Obj(permission, at + ".", "HTTP") is { } h ? Http(h, $"{at}.HTTP.") : null;
            permissions.Add(new IntentionPermission(Str(permission, at + ".", "Action"), http));
            index++;
        }

        return permissions.ToImmutable();
    }

    private static SourceIntention Source(JsonObject json, string path)
    {
        Known(json, path, SourceKeys);
        NoPartition(json, path);
        // A client's precedence is read only to be overwritten by the computed one (as Consul does); a stored one is kept.
        var precedence = 0;
        if (json["Precedence"] is { } given && (given.GetValueKind() != JsonValueKind.Number || !given.AsValue().TryGetValue(out precedence)))
        {
            precedence = given.GetValueKind() == JsonValueKind.Number ? 0 : throw Bad($"{path}Precedence: expected a number");
        }

        return new SourceIntention
        {
            Name = new ServiceName(Str(json, path, "Namespace"), Str(json, path, "Name")),
            Peer = Str(json, path, "Peer"),
            SamenessGroup = Str(json, path, "SamenessGroup"),
            Action = Str(json, path, "Action"),
            Permissions = Permissions(json, path),
            Precedence = precedence,
            Type = Str(json, path, "Type"),
            Description = Str(json, path, "Description"),
            LegacyId = Str(json, path, "LegacyID"),
            LegacyMeta = Map(json, path, "LegacyMeta"),
            LegacyCreateTime = When(json, path, "LegacyCreateTime"),
            LegacyUpdateTime = When(json, path, "LegacyUpdateTime"),
        };
    }

    private static HttpMatch Http(JsonObject json, string path)
    {
        Known(json, path, HttpKeys);
        var headers = ImmutableArray.CreateBuilder<HeaderMatch>();
        var index = 0;
        foreach (var item in Arr(json, path, "Header"))
        {
            var at = $"{path}Header[{index}].";
            var header = item as JsonObject ?? throw Bad($"{path}Header[{index}]: expected an object");
            Known(header, at, HeaderKeys);
            headers.Add(new HeaderMatch(
                Str(header, at, "Name"), Bool(header, at, "Present"), Str(header, at, "Exact"), Str(header, at, "Prefix"),
                Str(header, at, "Suffix"), Str(header, at, "Regex"), Bool(header, at, "Invert")));
            index++;
        }

        var methods = Arr(json, path, "Methods").Select(m => m is JsonValue v && v.TryGetValue<string>(out var text) ? text : throw Bad($"{path}Methods: expected an array of strings"));
        return new HttpMatch(Str(json, path, "PathExact"), Str(json, path, "PathPrefix"), Str(json, path, "PathRegex"), headers.ToImmutable(), [.. methods]);
    }

    private static JsonObject SourceJson(SourceIntention source, string inheritedNamespace)
    {
        var json = new JsonObject { ["Name"] = source.Name.Name };
        if (source.Name.Namespace != inheritedNamespace)
        {
            json["Namespace"] = source.Name.Namespace;
        }

        Put(json, "Peer", source.Peer);
        Put(json, "SamenessGroup", source.SamenessGroup);
        Put(json, "Action", source.Action);
        if (source.Permissions.Length > 0)
        {
            json["Permissions"] = PermissionsJson(source.Permissions);
        }

        json["Precedence"] = source.Precedence;
        json["Type"] = source.Type;
        Put(json, "Description", source.Description);
        Put(json, "LegacyID", source.LegacyId);
        if (source.LegacyMeta is { } meta)
        {
            json["LegacyMeta"] = MapJson(meta);
        }

        if (source.LegacyCreateTime is { } created)
        {
            json["LegacyCreateTime"] = Time(created);
        }

        if (source.LegacyUpdateTime is { } updated)
        {
            json["LegacyUpdateTime"] = Time(updated);
        }

        return json;
    }

    private static JsonObject PermissionJson(IntentionPermission permission)
    {
        var json = new JsonObject { ["Action"] = permission.Action };
        if (permission.Http is { } http)
        {
            var match = new JsonObject();
            Put(match, "PathExact", http.PathExact);
            Put(match, "PathPrefix", http.PathPrefix);
            Put(match, "PathRegex", http.PathRegex);
            if (http.Headers.Length > 0)
            {
                match["Header"] = new JsonArray([.. http.Headers.Select(h => (JsonNode)HeaderJson(h))]);
            }

            if (http.Methods.Length > 0)
            {
                match["Methods"] = new JsonArray([.. http.Methods.Select(m => (JsonNode)JsonValue.Create(m))]);
            }

            json["HTTP"] = match;
        }

        return json;
    }

    private static JsonObject HeaderJson(HeaderMatch header)
    {
        var json = new JsonObject { ["Name"] = header.Name };
        if (header.Present)
        {
            json["Present"] = true;
        }

        Put(json, "Exact", header.Exact);
        Put(json, "Prefix", header.Prefix);
        Put(json, "Suffix", header.Suffix);
        Put(json, "Regex", header.Regex);
        if (header.Invert)
        {
            json["Invert"] = true;
        }

        return json;
    }

    private static readonly ImmutableSortedDictionary<string, string> Empty = ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal);

    private static void Put(JsonObject json, string key, string value)
    {
        if (value.Length > 0)
        {
            json[key] = value;
        }
    }

    private static JsonObject MapJson(ImmutableSortedDictionary<string, string> map)
    {
        var json = new JsonObject();
        foreach (var (key, value) in map)
        {
            json[key] = value;
        }

        return json;
    }

    private static void Known(JsonObject json, string path, string[] keys)
    {
        foreach (var (key, _) in json)
        {
            if (!keys.Contains(key, StringComparer.Ordinal))
            {
                throw Bad($"invalid config key \"{path}{key}\" for {ServiceIntentions.Kind}");
            }
        }
    }

    // JWT requirements need JWT providers, which this cluster does not have: refused, never ignored.
    private static void NoJwt(JsonObject json, string path)
    {
        if (json["JWT"] is not null)
        {
            throw Bad($"{path}JWT: JWT requirements are not supported");
        }
    }

    // One admin partition exists: "default", or nothing.
    private static void NoPartition(JsonObject json, string path)
    {
        if (Str(json, path, "Partition") is not ("" or "default") and var partition)
        {
            throw Bad($"{path}Partition: \"{partition}\": admin partitions are not supported (only \"default\")");
        }
    }

    private static string Str(JsonObject json, string path, string key) => json[key] switch
    {
        null => "",
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        _ => throw Bad($"{path}{key}: expected a string"),
    };

    private static bool Bool(JsonObject json, string path, string key) => json[key] switch
    {
        null => false,
        JsonValue value when value.TryGetValue<bool>(out var flag) => flag,
        _ => throw Bad($"{path}{key}: expected a boolean"),
    };

    private static JsonObject? Obj(JsonObject json, string path, string key) => json[key] switch
    {
        null => null,
        JsonObject obj => obj,
        _ => throw Bad($"{path}{key}: expected an object"),
    };

    private static JsonArray Arr(JsonObject json, string path, string key) => json[key] switch
    {
        null => [],
        JsonArray array => array,
        _ => throw Bad($"{path}{key}: expected an array"),
    };

    private static ImmutableSortedDictionary<string, string>? Map(JsonObject json, string path, string key)
    {
        if (Obj(json, path, key) is not { } obj)
        {
            return null;
        }

        var map = Empty.ToBuilder();
        foreach (var (name, value) in obj)
        {
            map[name] = value is JsonValue v && v.TryGetValue<string>(out var text) ? text : throw Bad($"{path}{key}.{name}: expected a string");
        }

        return map.ToImmutable();
    }

    private static DateTimeOffset? When(JsonObject json, string path, string key) =>
        Str(json, path, key) is { Length: > 0 } text
            ? DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var time) ? time : throw Bad($"{path}{key}: \"{text}\" is not an RFC 3339 time")
            : null;

    private static InvalidRequestException Bad(string problem) => new($"Request decode failed: {problem}");
}
