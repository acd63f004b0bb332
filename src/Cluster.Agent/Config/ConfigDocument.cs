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
public sealed class ConfigDocument(string file, JsonObject root, IReadOnlyDictionary<JsonNode, SourcePosition> positions)
{
    public string File { get; } = file;

    public JsonObject Root { get; } = root;

    /// <summary>Where <paramref name="node"/> was written (the file's start if it was not read from it).</summary>
    public SourcePosition PositionOf(JsonNode node) =>
        node is not null && positions.TryGetValue(node, out var position) ? position : new SourcePosition(File, 1, 1);

    /// <summary>An error about <paramref name="node"/> at its place in the file.</summary>
    public ConfigException Error(JsonNode node, string problem)
    {
        var at = PositionOf(node);
        return new ConfigException(at.File, at.Line, at.Column, problem);
    }
}
