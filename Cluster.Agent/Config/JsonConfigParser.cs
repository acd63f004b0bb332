using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cluster.Agent.Config;

/// <summary>
/// Reads a JSON configuration file into the same tree <see cref="HclParser"/> gives, keeping the
/// position of every node (System.Text.Json's own nodes know none), with comments and trailing
/// commas allowed as Consul allows them. A key written twice in one object is an error rather
/// than a silent "last one wins".
/// </summary>
public static class JsonConfigParser
{
    public static ConfigDocument Parse(string file, string text)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(text);
        var bytes = Encoding.UTF8.GetBytes(text);
        var lines = LineStarts(bytes);
        var positions = new Dictionary<JsonNode, SourcePosition>(ReferenceEqualityComparer.Instance);
        var keyPositions = new Dictionary<JsonObject, Dictionary<string, SourcePosition>>(ReferenceEqualityComparer.Instance);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = 64 });

        SourcePosition At(long offset)
        {
            var line = lines.BinarySearch((int)offset);
            line = line >= 0 ? line : ~line - 1;
            var column = Encoding.UTF8.GetCharCount(bytes.AsSpan(lines[line], (int)offset - lines[line])) + 1;
            return new SourcePosition(file, line + 1, column);
        }

        ConfigException Error(long offset, string problem)
        {
            var at = At(offset);
            return new ConfigException(file, at.Line, at.Column, problem);
        }

        JsonNode? Read(ref Utf8JsonReader reader)
        {
            var at = At(reader.TokenStartIndex);
            JsonNode? node;
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    var obj = new JsonObject();
                    var keys = new Dictionary<string, SourcePosition>();
                    keyPositions[obj] = keys;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                    {
                        var keyOffset = reader.TokenStartIndex;
                        var key = reader.GetString()!;
                        if (obj.ContainsKey(key))
                        {
                            throw Error(keyOffset, $"\"{key}\" is set twice in one object");
                        }

                        keys[key] = At(keyOffset);
                        reader.Read();
                        obj[key] = Read(ref reader);
                    }

                    node = obj;
                    break;
                case JsonTokenType.StartArray:
                    var array = new JsonArray();
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        array.Add(Read(ref reader));
                    }

                    node = array;
                    break;
                case JsonTokenType.String:
                    node = JsonValue.Create(reader.GetString());
                    break;
                case JsonTokenType.Number:
                    node = reader.TryGetInt64(out var integer) ? JsonValue.Create(integer) : JsonValue.Create(reader.GetDouble());
                    break;
                case JsonTokenType.True or JsonTokenType.False:
                    node = JsonValue.Create(reader.GetBoolean());
                    break;
                default:
                    node = null;
                    break;
            }

            if (node is not null)
            {
                positions[node] = at;
            }

            return node;
        }

        try
        {
            if (text.Trim().Length == 0 || !reader.Read())
            {
                throw new ConfigException(file, 1, 1, "the file is empty: a JSON configuration is an object");
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw Error(reader.TokenStartIndex, "a JSON configuration must be an object ({ ... })");
            }

            var root = (JsonObject)Read(ref reader)!;
            reader.Read(); // anything after the object is the reader's error
            return new ConfigDocument(file, root, positions, keyPositions);
        }
        catch (JsonException exception)
        {
            // System.Text.Json counts lines and bytes from zero.
            throw new ConfigException(file, (int)(exception.LineNumber ?? 0) + 1, (int)(exception.BytePositionInLine ?? 0) + 1, Plain(exception.Message));
        }
    }

    private static List<int> LineStarts(byte[] bytes)
    {
        var starts = new List<int> { 0 };
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'\n')
            {
                starts.Add(i + 1);
            }
        }

        return starts;
    }

    /// <summary>The reader's message without its own "LineNumber: … | BytePositionInLine: …" tail (we give the position in front).</summary>
    private static string Plain(string message)
    {
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }
}
