using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Contracts;
using Google.Protobuf.Collections;

namespace Cluster.Agent.Http;

/// <summary>
/// Typed reads of request fields (names matched case-insensitively, as Consul's decoder does); a
/// value of the wrong type is a 400 that names the field.
/// </summary>
public static class JsonFields
{
    public static string Str(JsonObject json, string name, string fallback = "")
    {
        ArgumentNullException.ThrowIfNull(json);
        var node = json[name];
        if (node is null)
        {
            return fallback;
        }

        return node is JsonValue value && value.TryGetValue<string>(out var text)
            ? text
            : throw ApiException.BadRequest($"Request decode failed: {name}: expected a string, got {Kind(node)}");
    }

    public static long Number(JsonObject json, string name, long fallback = 0)
    {
        ArgumentNullException.ThrowIfNull(json);
        var node = json[name];
        if (node is null)
        {
            return fallback;
        }

        if (node is JsonValue value)
        {
            if (value.TryGetValue<long>(out var number))
            {
                return number;
            }

            if (value.TryGetValue<double>(out var real) && Math.Abs(real % 1) < double.Epsilon && Math.Abs(real) < long.MaxValue)
            {
                return (long)real;
            }
        }

        throw ApiException.BadRequest($"Request decode failed: {name}: expected an integer, got {Kind(node)}");
    }

    /// <summary>An integer that must fit an int (a port, a weight): a value out of range is a 400, not an overflow.</summary>
    public static int Int32Number(JsonObject json, string name, int fallback = 0)
    {
        var number = Number(json, name, fallback);
        return number is >= int.MinValue and <= int.MaxValue
            ? (int)number
            : throw ApiException.BadRequest($"Request decode failed: {name}: {number} does not fit a 32-bit integer");
    }

    /// <summary>A uint64 (KV flags, indexes), as Go decodes one: 0 to 2^64-1; a negative or fractional value is a 400.</summary>
    public static ulong UInt64Number(JsonObject json, string name)
    {
        ArgumentNullException.ThrowIfNull(json);
        var node = json[name];
        if (node is null)
        {
            return 0;
        }

        return node is JsonValue value && value.TryGetValue<ulong>(out var number)
            ? number
            : throw ApiException.BadRequest($"Request decode failed: {name}: expected an unsigned 64-bit integer, got {(node.GetValueKind() == JsonValueKind.Number ? node.ToJsonString() : Kind(node))}");
    }

    public static bool Bool(JsonObject json, string name, bool fallback = false)
    {
        ArgumentNullException.ThrowIfNull(json);
        var node = json[name];
        if (node is null)
        {
            return fallback;
        }

        return node is JsonValue value && value.TryGetValue<bool>(out var flag)
            ? flag
            : throw ApiException.BadRequest($"Request decode failed: {name}: expected a boolean, got {Kind(node)}");
    }

    public static JsonObject? Obj(JsonObject json, string name)
    {
        ArgumentNullException.ThrowIfNull(json);
        var node = json[name];
        return node switch
        {
            null => null,
            JsonObject obj => obj,
            _ => throw ApiException.BadRequest($"Request decode failed: {name}: expected an object, got {Kind(node)}"),
        };
    }

    public static JsonArray? Arr(JsonObject json, string name)
    {
        ArgumentNullException.ThrowIfNull(json);
        var node = json[name];
        return node switch
        {
            null => null,
            JsonArray array => array,
            _ => throw ApiException.BadRequest($"Request decode failed: {name}: expected an array, got {Kind(node)}"),
        };
    }

    public static IReadOnlyList<string> Strings(JsonObject json, string name)
    {
        var array = Arr(json, name);
        if (array is null)
        {
            return [];
        }

        var result = new List<string>(array.Count);
        foreach (var item in array)
        {
            result.Add(item is JsonValue value && value.TryGetValue<string>(out var text)
                ? text
                : throw ApiException.BadRequest($"Request decode failed: {name}: expected an array of strings"));
        }

        return result;
    }

    public static void StringMap(JsonObject json, string name, MapField<string, string> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        var obj = Obj(json, name);
        if (obj is null)
        {
            return;
        }

        foreach (var (key, node) in obj)
        {
            into[key] = node is JsonValue value && value.TryGetValue<string>(out var text)
                ? text
                : throw ApiException.BadRequest($"Request decode failed: {name}.{key}: expected a string");
        }
    }

    /// <summary>A duration given as a Go duration string ("15s") or a number of nanoseconds.</summary>
    public static TimeSpan? Duration(JsonObject json, string name)
    {
        ArgumentNullException.ThrowIfNull(json);
        var node = json[name];
        switch (node)
        {
            case null:
                return null;
            case JsonValue value when value.TryGetValue<string>(out var text):
                if (text.Length == 0)
                {
                    return null;
                }

                return GoDuration.TryParse(text, out var parsed) ? parsed : throw ApiException.BadRequest($"Request decode failed: {name}: invalid duration \"{text}\"");
            case JsonValue value when value.TryGetValue<long>(out var nanoseconds):
                return TimeSpan.FromTicks(nanoseconds / 100);
            default:
                throw ApiException.BadRequest($"Request decode failed: {name}: expected a duration, got {Kind(node)}");
        }
    }

    private static string Kind(JsonNode node) => node.GetValueKind() switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };
}
