using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Cluster.Agent.Config;

/// <summary>
/// An immutable string-keyed map (ordinal keys, kept in the order written) that compares by
/// content, for the maps inside configuration records such as a service's meta.
/// </summary>
public sealed class ValueDictionary<TValue> : IReadOnlyDictionary<string, TValue>, IEquatable<ValueDictionary<TValue>>
{
    private readonly Dictionary<string, TValue> _values;
    private readonly string[] _keys;

    internal ValueDictionary(IEnumerable<KeyValuePair<string, TValue>> pairs)
    {
        _values = new Dictionary<string, TValue>(StringComparer.Ordinal);
        var keys = new List<string>();
        foreach (var (key, value) in pairs)
        {
            if (_values.TryAdd(key, value))
            {
                keys.Add(key);
            }
            else
            {
                _values[key] = value;
            }
        }

        _keys = [.. keys];
    }

    public int Count => _keys.Length;

    public TValue this[string key] => _values[key];

    public IEnumerable<string> Keys => _keys;

    public IEnumerable<TValue> Values => _keys.Select(k => _values[k]);

    public bool ContainsKey(string key) => _values.ContainsKey(key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out TValue value) => _values.TryGetValue(key, out value);

    public IEnumerator<KeyValuePair<string, TValue>> GetEnumerator() =>
        _keys.Select(k => new KeyValuePair<string, TValue>(k, _values[k])).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Equals(ValueDictionary<TValue>? other)
    {
        if (other is null || other.Count != Count)
        {
            return false;
        }

        var comparer = EqualityComparer<TValue>.Default;
        return _values.All(pair => other._values.TryGetValue(pair.Key, out var value) && comparer.Equals(pair.Value, value));
    }

    public override bool Equals(object? obj) => Equals(obj as ValueDictionary<TValue>);

    // Order-independent, as equality is.
    public override int GetHashCode() => _values.Aggregate(Count, (hash, pair) => hash ^ HashCode.Combine(pair.Key, pair.Value));

    public override string ToString() => $"{{{string.Join(", ", this.Select(p => $"{p.Key} = {p.Value}"))}}}";
}

public static class ValueDictionary
{
    public static ValueDictionary<TValue> From<TValue>(IEnumerable<KeyValuePair<string, TValue>> pairs) => new(pairs);

    public static ValueDictionary<TValue> Empty<TValue>() => EmptyDictionary<TValue>.Instance;

    private static class EmptyDictionary<TValue>
    {
        public static readonly ValueDictionary<TValue> Instance = new([]);
    }
}
