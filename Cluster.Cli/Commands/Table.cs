using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cluster.Cli.Commands;

/// <summary>
/// Plain-text layouts that match Consul's (columnize, tabwriter), so scripts that parse its
/// tables parse ours. One difference: lines never end in spaces (Consul's do where a last cell is empty).
/// </summary>
internal static class Table
{
    /// <summary>
    /// Columns as Consul's columnize lays them out: cells trimmed, every column but the last
    /// padded to its widest cell and followed by two spaces; no newline after the last line.
    /// </summary>
    public static string Columnize(IEnumerable<IReadOnlyList<string>> rows)
    {
        var cells = rows.Select(r => r.Select(c => c.Trim()).ToArray()).ToList();
        var widths = new int[cells.Count == 0 ? 0 : cells.Max(r => r.Length)];
        foreach (var row in cells)
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        return string.Join('\n', cells.Select(row => string.Concat(row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]) + "  ")).TrimEnd()));
    }

    /// <summary>
    /// Two columns as Go's tabwriter (padding 6) aligns "name\tvalue" lines: the names padded to
    /// the longest plus six spaces, the values as they are; no newline after the last line.
    /// </summary>
    public static string Pairs(IEnumerable<(string Name, string Value)> rows)
    {
        var list = rows.ToList();
        var width = list.Count == 0 ? 0 : list.Max(r => r.Name.Length) + 6;
        return string.Join('\n', list.Select(r => (r.Name.PadRight(width) + r.Value).TrimEnd()));
    }
}

/// <summary>Reading fields of the agent's JSON leniently: a missing field reads as empty, as Go's zero values do.</summary>
internal static class JsonFields
{
    /// <summary>The field as text: strings as they are, numbers and booleans as JSON writes them, absent or null as "".</summary>
    public static string Text(this JsonNode? node, string name) => (node as JsonObject)?[name] switch
    {
        null => "",
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        var other => other.ToJsonString(),
    };

    public static bool Flag(this JsonNode? node, string name) =>
        (node as JsonObject)?[name] is JsonValue value && value.GetValueKind() == JsonValueKind.True;

    /// <summary>The elements of a JSON array (none for anything else, such as a 404's null).</summary>
    public static IEnumerable<JsonNode?> Items(this JsonNode? node) => node as JsonArray ?? [];

    /// <summary>A string-to-string object such as Tags or Meta, sorted by key with ordinal comparison (Go's sort.Strings).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Map(this JsonNode? node, string name) =>
        ((node as JsonObject)?[name] as JsonObject ?? [])
            .Select(p => KeyValuePair.Create(p.Key, p.Value is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : p.Value?.ToJsonString() ?? ""))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .ToList();
}
