using System.Numerics;

namespace Cluster.Testing.Linearizability;

/// <summary>
/// An immutable set of small integers with value equality. Arrays are trimmed of trailing zero words,
/// so equal sets have equal arrays and a set with few members stays small.
/// </summary>
internal sealed class Bits : IEquatable<Bits>
{
    public static readonly Bits Empty = new([]);

    private readonly ulong[] _words;
    private readonly int _hash;

    private Bits(ulong[] words)
    {
        _words = words;
        var hash = new HashCode();
        foreach (var word in words)
        {
            hash.Add(word);
        }

        _hash = hash.ToHashCode();
    }

    public int Count => _words.Sum(w => BitOperations.PopCount(w));

    public bool Contains(int i)
    {
        var word = i >> 6;
        return word < _words.Length && (_words[word] & (1UL << i)) != 0;
    }

    public Bits With(int i)
    {
        var word = i >> 6;
        var words = new ulong[Math.Max(_words.Length, word + 1)];
        _words.CopyTo(words, 0);
        words[word] |= 1UL << i;
        return new Bits(words);
    }

    public bool IsSubsetOf(Bits other)
    {
        if (_words.Length > other._words.Length)
        {
            return false;
        }

        for (var i = 0; i < _words.Length; i++)
        {
            if ((_words[i] & ~other._words[i]) != 0)
            {
                return false;
            }
        }

        return true;
    }

    public IEnumerable<int> Members()
    {
        for (var word = 0; word < _words.Length; word++)
        {
            var bits = _words[word];
            while (bits != 0)
            {
                var bit = BitOperations.TrailingZeroCount(bits);
                yield return (word << 6) + bit;
                bits &= bits - 1;
            }
        }
    }

    public bool Equals(Bits? other) =>
        other is not null && _hash == other._hash && _words.AsSpan().SequenceEqual(other._words);

    public override bool Equals(object? obj) => Equals(obj as Bits);

    public override int GetHashCode() => _hash;
}

/// <summary>
/// The operations of a segment already linearized, by index in call order: everything below
/// <see cref="Prefix"/>, plus a few beyond it (only operations concurrent with the first pending one
/// can be). Kept as a prefix and a short bitset so that long segments cost little per node.
/// </summary>
internal sealed class Linearized : IEquatable<Linearized>
{
    public static readonly Linearized None = new(0, []);

    private readonly ulong[] _beyond; // bit j: operation Prefix + j (bit 0 is never set)
    private readonly int _hash;

    private Linearized(int prefix, ulong[] beyond)
    {
        Prefix = prefix;
        _beyond = beyond;
        var hash = new HashCode();
        hash.Add(prefix);
        foreach (var word in beyond)
        {
            hash.Add(word);
        }

        _hash = hash.ToHashCode();
    }

    /// <summary>Every operation below it is linearized, and it is not.</summary>
    public int Prefix { get; }

    public bool Contains(int i)
    {
        if (i < Prefix)
        {
            return true;
        }

        var j = i - Prefix;
        var word = j >> 6;
        return word < _beyond.Length && (_beyond[word] & (1UL << j)) != 0;
    }

    public Linearized With(int i)
    {
        if (i != Prefix)
        {
            var j = i - Prefix;
            var word = j >> 6;
            var words = new ulong[Math.Max(_beyond.Length, word + 1)];
            _beyond.CopyTo(words, 0);
            words[word] |= 1UL << j;
            return new Linearized(Prefix, words);
        }

        // The prefix grows over i and over every member that now follows it without a gap.
        var prefix = i + 1;
        while (Contains(prefix))
        {
            prefix++;
        }

        var shift = prefix - Prefix;
        var members = new List<int>();
        for (var word = 0; word < _beyond.Length; word++)
        {
            var bits = _beyond[word];
            while (bits != 0)
            {
                var j = (word << 6) + BitOperations.TrailingZeroCount(bits);
                if (j > shift)
                {
                    members.Add(j - shift);
                }

                bits &= bits - 1;
            }
        }

        if (members.Count == 0)
        {
            return new Linearized(prefix, []);
        }

        var shifted = new ulong[(members[^1] >> 6) + 1];
        foreach (var j in members)
        {
            shifted[j >> 6] |= 1UL << j;
        }

        return new Linearized(prefix, shifted);
    }

    public bool Equals(Linearized? other) =>
        other is not null && _hash == other._hash && Prefix == other.Prefix && _beyond.AsSpan().SequenceEqual(other._beyond);

    public override bool Equals(object? obj) => Equals(obj as Linearized);

    public override int GetHashCode() => _hash;
}

/// <summary>
/// How many optional operations of each class a configuration has consumed: once called, operations of
/// one class are interchangeable, so only these counts matter when comparing configurations. Kept as
/// sorted (class, count) pairs.
/// </summary>
internal sealed class Signature : IEquatable<Signature>
{
    public static readonly Signature Empty = new([]);

    private readonly long[] _entries; // class << 32 | count, in class order
    private readonly int _hash;

    private Signature(long[] entries)
    {
        _entries = entries;
        var hash = new HashCode();
        foreach (var entry in entries)
        {
            hash.Add(entry);
        }

        _hash = hash.ToHashCode();
    }

    /// <summary>The signature of consumed operations of these classes (in any order, repeats counted).</summary>
    public static Signature Of(List<int> classes)
    {
        if (classes.Count == 0)
        {
            return Empty;
        }

        classes.Sort();
        var entries = new List<long>();
        var run = 1;
        for (var i = 1; i <= classes.Count; i++)
        {
            if (i < classes.Count && classes[i] == classes[i - 1])
            {
                run++;
                continue;
            }

            entries.Add(((long)classes[i - 1] << 32) | (uint)run);
            run = 1;
        }

        return new Signature([.. entries]);
    }

    /// <summary>This signature with one more operation of <paramref name="cls"/> consumed.</summary>
    public Signature Plus(int cls)
    {
        var entries = new List<long>(_entries.Length + 1);
        var added = false;
        foreach (var entry in _entries)
        {
            var c = (int)(entry >> 32);
            if (!added && c == cls)
            {
                entries.Add(entry + 1);
                added = true;
                continue;
            }

            if (!added && c > cls)
            {
                entries.Add(((long)cls << 32) | 1u);
                added = true;
            }

            entries.Add(entry);
        }

        if (!added)
        {
            entries.Add(((long)cls << 32) | 1u);
        }

        return new Signature([.. entries]);
    }

    /// <summary>True when, for every class, this consumed no more than <paramref name="other"/>: this has at least its options.</summary>
    public bool IsCoveredBy(Signature other)
    {
        var j = 0;
        foreach (var entry in _entries)
        {
            var cls = entry >> 32;
            while (j < other._entries.Length && (other._entries[j] >> 32) < cls)
            {
                j++;
            }

            if (j == other._entries.Length || (other._entries[j] >> 32) != cls || (uint)other._entries[j] < (uint)entry)
            {
                return false;
            }
        }

        return true;
    }

    public bool Equals(Signature? other) =>
        other is not null && _hash == other._hash && _entries.AsSpan().SequenceEqual(other._entries);

    public override bool Equals(object? obj) => Equals(obj as Signature);

    public override int GetHashCode() => _hash;
}
