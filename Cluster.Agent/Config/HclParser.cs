using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Cluster.Agent.Config;

/// <summary>
/// Reads the HCL that Consul's documentation writes its configuration in (HCL 1: attributes
/// <c>key = value</c>, blocks <c>service { ... }</c> and labelled blocks <c>check "name" { ... }</c>,
/// strings with escapes, heredocs, numbers, booleans, lists, objects, <c>#</c> <c>//</c> and
/// <c>/* */</c> comments) into the same JSON tree a JSON file gives. A key written twice in one
/// object becomes a list of its values, as HCL 1 decodes repeated blocks (several
/// <c>service { }</c> blocks are several services). Every problem is a <see cref="ConfigException"/>
/// with file, line and column.
/// </summary>
public sealed class HclParser
{
    private readonly string _file;
    private readonly string _text;
    private readonly Dictionary<JsonNode, SourcePosition> _positions = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<JsonObject, Dictionary<string, SourcePosition>> _keyPositions = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<JsonArray> _repeated = new(ReferenceEqualityComparer.Instance);
    private int _at;
    private int _line = 1;
    private int _column = 1;

    private HclParser(string file, string text)
    {
        _file = file;
        _text = text;
    }

    public static ConfigDocument Parse(string file, string text)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(text);
        var parser = new HclParser(file, text);
        var root = new JsonObject();
        parser.Body(root, closing: null);
        return new ConfigDocument(file, root, parser._positions, parser._keyPositions);
    }

    /// <summary>Items until <paramref name="closing"/> (or the end of the text at the top level), separated by newlines or commas.</summary>
    private void Body(JsonObject target, char? closing)
    {
        while (true)
        {
            SkipSpace(newlines: true);
            if (_at >= _text.Length)
            {
                if (closing is not null)
                {
                    throw Error($"the file ends inside a block: expected '{closing}'");
                }

                return;
            }

            if (Peek == closing)
            {
                Advance();
                return;
            }

            Item(target);
            SkipSpace(newlines: false);
            if (Peek == ',')
            {
                Advance();
            }
            else if (_at < _text.Length && Peek != '\n' && Peek != closing)
            {
                throw Error($"expected a new line after the value, found {Describe(Peek)}");
            }
        }
    }

    private void Item(JsonObject target)
    {
        var keyAt = Here;
        var key = Key();
        SkipSpace(newlines: false);
        if (Peek is '=' or ':')
        {
            Advance();
            SkipSpace(newlines: false);
            Set(target, key, Value(), keyAt);
            return;
        }

        // A block: key "label" ... { body }
        var labels = new List<string>();
        while (Peek is '"' || IsIdentifierStart(Peek))
        {
            labels.Add(Key());
            SkipSpace(newlines: false);
        }

        if (Peek != '{')
        {
            throw Error($"expected '=' or '{{' after \"{key}\", found {Describe(Peek)}");
        }

        var blockAt = Here;
        Advance();
        var body = new JsonObject();
        _positions[body] = blockAt;
        Body(body, '}');

        JsonNode value = body;
        for (var i = labels.Count - 1; i >= 0; i--)
        {
            var wrapper = new JsonObject { [labels[i]] = value };
            _positions[wrapper] = blockAt;
            RememberKey(wrapper, labels[i], blockAt);
            value = wrapper;
        }

        Set(target, key, value, keyAt);
    }

    private void Set(JsonObject target, string key, JsonNode value, SourcePosition at)
    {
        RememberKey(target, key, at);
        if (!target.TryGetPropertyValue(key, out var existing))
        {
            target[key] = value;
            return;
        }

        if (existing is JsonArray list && _repeated.Contains(list))
        {
            list.Add(value);
            return;
        }

        target.Remove(key);
        var repeated = new JsonArray();
        _repeated.Add(repeated);
        _positions[repeated] = at;
        repeated.Add(existing);
        repeated.Add(value);
        target[key] = repeated;
    }

    /// <summary>The first place a key was written (a repeated block is one key, shown where it began).</summary>
    private void RememberKey(JsonObject owner, string key, SourcePosition at)
    {
        if (!_keyPositions.TryGetValue(owner, out var keys))
        {
            keys = [];
            _keyPositions[owner] = keys;
        }

        keys.TryAdd(key, at);
    }

    private string Key()
    {
        if (Peek == '"')
        {
            return String();
        }

        if (!IsIdentifierStart(Peek))
        {
            throw Error($"expected a key, found {Describe(Peek)}");
        }

        var start = _at;
        while (_at < _text.Length && (char.IsLetterOrDigit(Peek) || Peek is '_' or '-' or '.'))
        {
            Advance();
        }

        return _text[start.._at];
    }

    private JsonNode Value()
    {
        var at = Here;
        JsonNode node;
        switch (Peek)
        {
            case '"':
                node = JsonValue.Create(String());
                break;
            case '<' when _at + 1 < _text.Length && _text[_at + 1] == '<':
                node = JsonValue.Create(Heredoc());
                break;
            case '[':
                node = List();
                break;
            case '{':
                Advance();
                var body = new JsonObject();
                _positions[body] = at;
                Body(body, '}');
                node = body;
                break;
            case var c when char.IsAsciiDigit(c) || c is '-' or '+' or '.':
                node = Number();
                break;
            case var c when IsIdentifierStart(c):
                var word = Key();
                node = word switch
                {
                    "true" => JsonValue.Create(true),
                    "false" => JsonValue.Create(false),
                    _ => throw new ConfigException(_file, at.Line, at.Column, $"unexpected word \"{word}\": strings need double quotes"),
                };
                break;
            default:
                throw Error(_at >= _text.Length ? "the file ends where a value should be" : $"expected a value, found {Describe(Peek)}");
        }

        _positions[node] = at;
        return node;
    }

    private JsonArray List()
    {
        Advance(); // [
        var list = new JsonArray();
        while (true)
        {
            SkipSpace(newlines: true);
            if (Peek == ']')
            {
                Advance();
                return list;
            }

            if (_at >= _text.Length)
            {
                throw Error("the file ends inside a list: expected ']'");
            }

            list.Add(Value());
            SkipSpace(newlines: true);
            if (Peek == ',')
            {
                Advance();
            }
            else if (Peek != ']')
            {
                throw Error(_at >= _text.Length ? "the file ends inside a list: expected ']'" : $"expected ',' or ']' in a list, found {Describe(Peek)}");
            }
        }
    }

    private JsonValue Number()
    {
        var at = Here;
        var start = _at;
        while (_at < _text.Length && (char.IsAsciiLetterOrDigit(Peek) || Peek is '-' or '+' or '.'))
        {
            Advance();
        }

        var text = _text[start.._at];
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && double.IsFinite(real))
        {
            return JsonValue.Create(real);
        }

        throw new ConfigException(_file, at.Line, at.Column, $"\"{text}\" is not a number (durations such as \"10s\" are strings and need quotes)");
    }

    private string String()
    {
        var start = Here;
        Advance(); // opening quote
        var value = new StringBuilder();
        while (true)
        {
            if (_at >= _text.Length || Peek == '\n')
            {
                throw new ConfigException(_file, start.Line, start.Column, "a string is not closed before the end of its line");
            }

            var c = Peek;
            Advance();
            if (c == '"')
            {
                return value.ToString();
            }

            if (c != '\\')
            {
                value.Append(c);
                continue;
            }

            if (_at >= _text.Length)
            {
                throw Error("the file ends inside an escape");
            }

            var escape = Peek;
            Advance();
            switch (escape)
            {
                case 'n': value.Append('\n'); break;
                case 't': value.Append('\t'); break;
                case 'r': value.Append('\r'); break;
                case '"': value.Append('"'); break;
                case '\\': value.Append('\\'); break;
                case 'u':
                    if (_at + 4 > _text.Length || !int.TryParse(_text.AsSpan(_at, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                    {
                        throw Error("\\u needs four hexadecimal digits");
                    }

                    value.Append((char)code);
                    for (var i = 0; i < 4; i++)
                    {
                        Advance();
                    }

                    break;
                default:
                    throw Error($"unknown escape \\{escape}");
            }
        }
    }

    /// <summary><c>&lt;&lt;EOF</c> ... <c>EOF</c>, or <c>&lt;&lt;-EOF</c> with the closing marker (and common indentation) indented.</summary>
    private string Heredoc()
    {
        var start = Here;
        Advance();
        Advance();
        var indented = Peek == '-';
        if (indented)
        {
            Advance();
        }

        var markerStart = _at;
        while (_at < _text.Length && (char.IsLetterOrDigit(Peek) || Peek == '_'))
        {
            Advance();
        }

        var marker = _text[markerStart.._at];
        if (marker.Length == 0 || Peek != '\n')
        {
            throw new ConfigException(_file, start.Line, start.Column, "a heredoc needs a marker word and then a new line, as in <<EOF");
        }

        Advance();
        var lines = new List<string>();
        while (_at < _text.Length)
        {
            var end = _text.IndexOf('\n', _at);
            var line = end < 0 ? _text[_at..] : _text[_at..end];
            while (_at < (end < 0 ? _text.Length : end + 1))
            {
                Advance();
            }

            if ((indented ? line.Trim() : line.TrimEnd('\r')) == marker)
            {
                if (indented)
                {
                    var indent = lines.Where(l => l.Trim().Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
                    lines = [.. lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart())];
                }

                return string.Join('\n', lines) + (lines.Count > 0 ? "\n" : "");
            }

            lines.Add(line.TrimEnd('\r'));
        }

        throw new ConfigException(_file, start.Line, start.Column, $"the heredoc is never closed by a line \"{marker}\"");
    }

    private void SkipSpace(bool newlines)
    {
        while (_at < _text.Length)
        {
            var c = Peek;
            if (c is ' ' or '\t' or '\r' || (newlines && c == '\n'))
            {
                Advance();
            }
            else if (c == '#' || (c == '/' && _at + 1 < _text.Length && _text[_at + 1] == '/'))
            {
                while (_at < _text.Length && Peek != '\n')
                {
                    Advance();
                }
            }
            else if (c == '/' && _at + 1 < _text.Length && _text[_at + 1] == '*')
            {
                var start = Here;
                Advance();
                Advance();
                while (!(Peek == '*' && _at + 1 < _text.Length && _text[_at + 1] == '/'))
                {
                    if (_at >= _text.Length)
                    {
                        throw new ConfigException(_file, start.Line, start.Column, "a /* comment is never closed");
                    }

                    Advance();
                }

                Advance();
                Advance();
            }
            else
            {
                return;
            }
        }
    }

    private char Peek => _at < _text.Length ? _text[_at] : '\0';

    private SourcePosition Here => new(_file, _line, _column);

    private void Advance()
    {
        if (_text[_at] == '\n')
        {
            _line++;
            _column = 1;
        }
        else
        {
            _column++;
        }

        _at++;
    }

    private static bool IsIdentifierStart(char c) => char.IsLetter(c) || c == '_';

    private static string Describe(char c) => c switch
    {
        '\0' => "the end of the file",
        '\n' => "a new line",
        _ => $"'{c}'",
    };

    private ConfigException Error(string problem) => new(_file, _line, _column, problem);
}
