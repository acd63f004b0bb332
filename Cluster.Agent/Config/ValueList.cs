using System.Collections;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;

namespace Cluster.Agent.Config;

/// <summary>
/// An immutable list that compares by its items, so configuration records holding lists are
/// equal when they say the same thing (an HCL file and its JSON twin give equal configs).
/// JSON items compare by content.
/// </summary>
[CollectionBuilder(typeof(ValueList), nameof(ValueList.Create))]
public sealed class ValueList<T> : IReadOnlyList<T>, IEquatable<ValueList<T>>
{
    private static readonly IEqualityComparer<T> ItemComparer = typeof(JsonNode).IsAssignableFrom(typeof(T))
        ? (IEqualityComparer<T>)(object)JsonContentComparer.Instance
        : EqualityComparer<T>.Default;

    private readonly T[] _items;

    internal ValueList(T[] items) => _items = items;

    public int Count => _items.Length;

    public T this[int index] => _items[index];

    /// <summary>This list with <paramref name="items"/> after its own.</summary>
    public ValueList<T> AddRange(IEnumerable<T> items) => new([.. _items, .. items]);

    public ValueList<T> Add(T item) => new([.. _items, item]);

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    public bool Equals(ValueList<T>? other) =>
        other is not null && (ReferenceEquals(this, other) || _items.AsSpan().SequenceEqual(other._items, ItemComparer));

    public override bool Equals(object? obj) => Equals(obj as ValueList<T>);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var item in _items)
        {
            hash.Add(item is null ? 0 : ItemComparer.GetHashCode(item));
        }

        return hash.ToHashCode();
    }

    public override string ToString() => $"[{string.Join(", ", _items)}]";

    /// <summary>JSON compared by content; its hash is only its kind, enough for the rare hashed use.</summary>
    private sealed class JsonContentComparer : IEqualityComparer<JsonNode>
    {
        public static readonly JsonContentComparer Instance = new();

        public bool Equals(JsonNode? x, JsonNode? y) => JsonNode.DeepEquals(x, y);

        public int GetHashCode(JsonNode obj) => (int)obj.GetValueKind();
    }
}

public static class ValueList
{
    public static ValueList<T> Create<T>(ReadOnlySpan<T> items) => items.IsEmpty ? Empty<T>() : new(items.ToArray());

    public static ValueList<T> From<T>(IEnumerable<T> items) => new([.. items]);

    public static ValueList<T> Empty<T>() => EmptyList<T>.Instance;

    private static class EmptyList<T>
    {
        public static readonly ValueList<T> Instance = new([]);
    }
}
