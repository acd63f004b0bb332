using System.Text.Json.Nodes;

namespace Cluster.Agent.Config;

/// <summary>Where a value stood in its file.</summary>
public readonly record struct SourcePosition(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}

/// <summary>
/// A parsed configuration file, HCL or JSON alike: a JSON tree plus the position of every
/// node in it, so a value that parses but makes no sense still gets an error with file and line.
/// </summary>
public sealed class ConfigDocument(
    string file,
    JsonObject root,
    IReadOnlyDictionary<JsonNode, SourcePosition> positions,
    IReadOnlyDictionary<JsonObject, Dictionary<string, SourcePosition>>? keyPositions = null)
{
    public string File { get; } = file;

    public JsonObject Root { get; } = root;

    /// <summary>Where <paramref name="node"/> was written (the file's start if it was not read from it).</summary>
    public SourcePosition PositionOf(JsonNode node) =>
        node is not null && positions.TryGetValue(node, out var position) ? position : new SourcePosition(File, 1, 1);

    /// <summary>
    /// Where <paramref name="key"/> of <paramref name="owner"/> was written: an unknown key is
    /// best shown at the key itself, not at its value.
    /// </summary>
    public SourcePosition KeyPositionOf(JsonObject owner, string key)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (keyPositions is not null && keyPositions.TryGetValue(owner, out var keys) && keys.TryGetValue(key, out var position))
        {
            return position;
        }

        return owner.TryGetPropertyValue(key, out var value) && value is not null ? PositionOf(value) : PositionOf(owner);
    }

    /// <summary>An error about <paramref name="node"/> at its place in the file.</summary>
    public ConfigException Error(JsonNode node, string problem) => new(PositionOf(node), problem);

    /// <summary>An error about the key <paramref name="key"/> of <paramref name="owner"/>, at the key.</summary>
    public ConfigException KeyError(JsonObject owner, string key, string problem) => new(KeyPositionOf(owner, key), problem);
}
