using System.Collections;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cluster.Testing.Linearizability;

/// <summary>
/// The operations recorded in one run, in the recorder's order. Saved as JSON lines (one
/// <see cref="Operation"/> per line) so a failing run can be kept and checked again later.
/// </summary>
public sealed class History : IReadOnlyList<Operation>
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private readonly Operation[] _operations;

    /// <exception cref="ArgumentException">An id repeats, or a completed operation returned before its call.</exception>
    public History(IEnumerable<Operation> operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        _operations = [.. operations];
        var ids = new HashSet<int>();
        foreach (var op in _operations)
        {
            ArgumentNullException.ThrowIfNull(op, nameof(operations));
            if (!ids.Add(op.Id))
            {
                throw new ArgumentException($"operation id {op.Id} appears twice", nameof(operations));
            }

            if (op.Status != OpStatus.Unknown && op.Return < op.Call)
            {
                throw new ArgumentException($"operation {op.Id} returned ({op.Return}) before its call ({op.Call})", nameof(operations));
            }
        }
    }

    public int Count => _operations.Length;

    public Operation this[int index] => _operations[index];

    /// <summary>The distinct keys, in ordinal order.</summary>
    public IReadOnlyList<string> Keys => [.. _operations.Select(o => o.Key).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>The operations on one key, in this history's order.</summary>
    public History ForKey(string key) => new(_operations.Where(o => o.Key == key));

    public int CountOf(OpStatus status) => _operations.Count(o => o.Status == status);

    public IEnumerator<Operation> GetEnumerator() => ((IEnumerable<Operation>)_operations).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public void WriteJsonLines(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        foreach (var op in _operations)
        {
            writer.Write(JsonSerializer.Serialize(op, Json));
            writer.Write('\n');
        }
    }

    /// <summary>Reads what <see cref="WriteJsonLines"/> wrote; blank lines are skipped.</summary>
    public static History ReadJsonLines(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var operations = new List<Operation>();
        var number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var op = JsonSerializer.Deserialize<Operation>(line, Json)
                ?? throw new InvalidDataException($"line {number}: null operation");
            operations.Add(op);
        }

        return new History(operations);
    }

    public void Save(string path)
    {
        using var writer = new StreamWriter(path);
        WriteJsonLines(writer);
    }

    public static History Load(string path)
    {
        using var reader = new StreamReader(path);
        return ReadJsonLines(reader);
    }
}
