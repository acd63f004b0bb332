using Cluster.Contracts;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cluster.Agent.Config;

/// <summary>
/// The keys of one object in a configuration file matched to the fields it may have, the way
/// Consul matches them: <c>node_name</c>, <c>NodeName</c> and <c>nodename</c> are one field. A key
/// that is no field, or one field written twice, is an error at the key. The typed reads turn a
/// value of the wrong type into an error at the value; like Consul they take "8500" for a number
/// and "true" for a boolean, and one string for a list of one.
/// </summary>
internal sealed class FieldSet
{
    private readonly ConfigDocument _document;
    private readonly JsonObject _owner;
    private readonly string _path;
    private readonly Dictionary<string, JsonNode> _values = new(StringComparer.Ordinal);

    private FieldSet(ConfigDocument document, JsonObject owner, string path)
    {
        _document = document;
        _owner = owner;
        _path = path;
    }

    public ConfigDocument Document => _document;

    /// <summary>Where the object itself was written.</summary>
    public Origin Origin => Origin.At(_document.PositionOf(_owner));

    /// <summary>
    /// Reads <paramref name="owner"/>, whose fields are <paramref name="fields"/> (Consul's
    /// snake_case names; "args|script_args" gives a field an alias). <paramref name="path"/> names
    /// the object in messages ("ports", "service.check"); empty at the top level.
    /// </summary>
    public static FieldSet Read(ConfigDocument document, JsonObject owner, string path, IReadOnlyList<string> fields)
    {
        var set = new FieldSet(document, owner, path);
        var byCanonical = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var field in fields)
        {
            var names = field.Split('|');
            foreach (var name in names)
            {
                byCanonical[Canonical(name)] = names[0];
            }
        }

        var written = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in owner)
        {
            if (!byCanonical.TryGetValue(Canonical(key), out var field))
            {
                throw document.KeyError(owner, key, path.Length == 0 ? $"unknown field \"{key}\"" : $"unknown field \"{key}\" in {path}");
            }

            if (!written.TryAdd(field, key))
            {
                throw document.KeyError(owner, key, $"\"{key}\" and \"{written[field]}\" are the same setting, {set.Name(field)}");
            }

            // JSON null is "not set", as in Consul.
            if (value is not null)
            {
                set._values[field] = value;
            }
        }

        return set;
    }

    /// <summary>The field's full name for messages: "ports.http".</summary>
    public string Name(string field) => _path.Length == 0 ? field : $"{_path}.{field}";

    public bool Has(string field) => _values.ContainsKey(field);

    public Origin OriginOf(string field) => _values.TryGetValue(field, out var node) ? Origin.At(_document.PositionOf(node)) : Origin;

    public ConfigException Error(string field, string problem) =>
        _values.TryGetValue(field, out var node) ? _document.Error(node, problem) : _document.Error(_owner, problem);

    /// <summary>An error about the object as a whole, at where it begins.</summary>
    public ConfigException BlockError(string problem) => _document.Error(_owner, problem);

    public string? Text(string field) => _values.TryGetValue(field, out var node) ? AsText(node, Name(field)) : null;

    public bool? Bool(string field) => _values.TryGetValue(field, out var node) ? AsBool(node, Name(field)) : null;

    public int? Int(string field) => _values.TryGetValue(field, out var node) ? AsInt(node, Name(field)) : null;

    public TimeSpan? Duration(string field) => _values.TryGetValue(field, out var node) ? AsDuration(node, Name(field)) : null;

    public JsonObject? Object(string field) => _values.TryGetValue(field, out var node) ? AsObject(node, Name(field)) : null;

    /// <summary>A list of strings, each with where it was written.</summary>
    public IReadOnlyList<(string Value, Origin Origin)>? TextsWithOrigins(string field) =>
        _values.TryGetValue(field, out var node)
            ? [.. Items(node, Name(field)).Select(item => (AsText(item, Name(field)), Origin.At(_document.PositionOf(item))))]
            : null;

    public ValueList<string>? Texts(string field) => TextsWithOrigins(field) is { } items ? ValueList.From(items.Select(i => i.Value)) : null;

    /// <summary>A block, or a list of blocks (HCL's repeated blocks), each as an object.</summary>
    public IReadOnlyList<JsonObject> Objects(string field) =>
        _values.TryGetValue(field, out var node) ? [.. Items(node, Name(field)).Select(item => AsObject(item, Name(field)))] : [];

    /// <summary>A nested block's fields (<c>ports { ... }</c>).</summary>
    public FieldSet? Block(string field, IReadOnlyList<string> fields) =>
        Object(field) is { } block ? Read(_document, block, Name(field), fields) : null;

    /// <summary>A map of strings such as meta; its keys are data, kept as written.</summary>
    public ValueDictionary<string>? TextMap(string field) =>
        Object(field) is { } map
            ? ValueDictionary.From(map.Select(p => KeyValuePair.Create(p.Key, AsText(p.Value ?? Missing(map, p.Key), $"{Name(field)}.{p.Key}"))))
            : null;

    /// <summary>A map of string lists, as an HTTP check's header.</summary>
    public ValueDictionary<ValueList<string>>? TextListMap(string field) =>
        Object(field) is { } map
            ? ValueDictionary.From(map.Select(p => KeyValuePair.Create(
                p.Key,
                ValueList.From(Items(p.Value ?? Missing(map, p.Key), $"{Name(field)}.{p.Key}").Select(item => AsText(item, $"{Name(field)}.{p.Key}"))))))
            : null;

    /// <summary>Letters upper-cased and '_' dropped: the form in which Consul's spellings of a key agree.</summary>
    public static string Canonical(string key) => key.Replace("_", "", StringComparison.Ordinal).ToUpperInvariant();

    private IEnumerable<JsonNode> Items(JsonNode node, string name) =>
        node is JsonArray list ? list.Select(item => item ?? throw _document.Error(list, $"{name} has a null in its list")) : [node];

    private JsonNode Missing(JsonObject map, string key) => throw _document.KeyError(map, key, $"\"{key}\" has no value");

    private string AsText(JsonNode node, string name) =>
        node.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : throw Wrong(node, name, "a string");

    private bool AsBool(JsonNode node, string name) => node.GetValueKind() switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String when GoBool.TryParse(node.GetValue<string>(), out var value) => value,
        _ => throw Wrong(node, name, "true or false"),
    };

    private int AsInt(JsonNode node, string name)
    {
        switch (node.GetValueKind())
        {
            case JsonValueKind.Number when node.AsValue().TryGetValue<long>(out var integer) && integer is >= int.MinValue and <= int.MaxValue:
                return (int)integer;
            case JsonValueKind.String when int.TryParse(node.GetValue<string>(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed):
                return parsed;
            default:
                throw Wrong(node, name, "an integer");
        }
    }

    private TimeSpan AsDuration(JsonNode node, string name) =>
        node.GetValueKind() == JsonValueKind.String && GoDuration.TryParse(node.GetValue<string>(), out var duration)
            ? duration
            : throw Wrong(node, name, "a duration such as \"10s\", \"1m30s\" or \"500ms\"");

    private JsonObject AsObject(JsonNode node, string name) => node as JsonObject ?? throw Wrong(node, name, "a block");

    private ConfigException Wrong(JsonNode node, string name, string expected) =>
        _document.Error(node, $"{name} must be {expected}, not {Describe(node)}");

    private static string Describe(JsonNode node) => node.GetValueKind() switch
    {
        JsonValueKind.String => $"\"{node.GetValue<string>()}\"",
        JsonValueKind.Object => "a block",
        JsonValueKind.Array => "a list",
        _ => node.ToJsonString(),
    };
}
