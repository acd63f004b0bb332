using System.Collections;

namespace Cluster.Grpc;

/// <summary>
/// Custom call metadata: request headers, response headers or trailers. Keys are lowercase
/// ASCII (0-9 a-z _ - .); keys ending in "-bin" carry binary values, sent base64-encoded.
/// Keys starting with "grpc-" are reserved for the protocol and cannot be added.
/// </summary>
public sealed class Metadata : IReadOnlyList<Metadata.Entry>
{
    public const string BinarySuffix = "-bin";

    private readonly List<Entry> _entries = [];

    /// <summary>One key and its value: text for ordinary keys, bytes for "-bin" keys.</summary>
    public sealed record Entry
    {
        internal Entry(string key, string? value, byte[]? valueBytes)
        {
            Key = key;
            Value = value;
            ValueBytes = valueBytes;
        }

        public string Key { get; }

        /// <summary>The text value; null for binary entries.</summary>
        public string? Value { get; }

        /// <summary>The binary value; null for text entries.</summary>
        public byte[]? ValueBytes { get; }

        public bool IsBinary => ValueBytes is not null;
    }

    public int Count => _entries.Count;

    public Entry this[int index] => _entries[index];

    public Metadata Add(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        key = ValidateKey(key);
        if (IsBinaryKey(key))
        {
            throw new ArgumentException($"Metadata key '{key}' ends in '{BinarySuffix}' and needs a binary value.", nameof(key));
        }

        foreach (var c in value)
        {
            if (c < 0x20 || c > 0x7E)
            {
                throw new ArgumentException($"Metadata value for '{key}' must be printable ASCII; use a '{BinarySuffix}' key for other data.", nameof(value));
            }
        }

        _entries.Add(new Entry(key, value, null));
        return this;
    }

    public Metadata Add(string key, byte[] value)
    {
        ArgumentNullException.ThrowIfNull(value);
        key = ValidateKey(key);
        if (!IsBinaryKey(key))
        {
            throw new ArgumentException($"Binary metadata key '{key}' must end in '{BinarySuffix}'.", nameof(key));
        }

        _entries.Add(new Entry(key, null, value));
        return this;
    }

    /// <summary>The last text value for the key, or null.</summary>
    public string? GetValue(string key)
    {
        for (var i = _entries.Count - 1; i >= 0; i--)
        {
            if (_entries[i].Key == key)
            {
                return _entries[i].Value;
            }
        }

        return null;
    }

    /// <summary>The last binary value for the key, or null.</summary>
    public byte[]? GetValueBytes(string key)
    {
        for (var i = _entries.Count - 1; i >= 0; i--)
        {
            if (_entries[i].Key == key)
            {
                return _entries[i].ValueBytes;
            }
        }

        return null;
    }

    public IEnumerable<Entry> GetAll(string key) => _entries.Where(e => e.Key == key);

    public IEnumerator<Entry> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public static bool IsBinaryKey(string key) => key.EndsWith(BinarySuffix, StringComparison.Ordinal);

    /// <summary>Adds a header value as it arrived on the wire, decoding base64 for "-bin" keys.</summary>
    internal bool TryAddFromWire(string key, string wireValue)
    {
        if (!IsBinaryKey(key))
        {
            _entries.Add(new Entry(key, wireValue, null));
            return true;
        }

        // Senders may omit base64 padding, and several values may be folded with commas.
        var bytes = new List<byte>();
        foreach (var part in wireValue.Split(',', StringSplitOptions.TrimEntries))
        {
            var padded = part.Length % 4 == 0 ? part : part + new string('=', 4 - (part.Length % 4));
            var buffer = new byte[padded.Length];
            if (!Convert.TryFromBase64String(padded, buffer, out var written))
            {
                return false;
            }

            bytes.AddRange(buffer.AsSpan(0, written));
        }

        _entries.Add(new Entry(key, null, bytes.ToArray()));
        return true;
    }

    /// <summary>The value as it goes on the wire.</summary>
    internal static string ToWireValue(Entry entry) =>
        entry.ValueBytes is { } bytes ? Convert.ToBase64String(bytes) : entry.Value!;

    private static string ValidateKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var lower = key.ToLowerInvariant();
        foreach (var c in lower)
        {
            var ok = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-' or '.';
            if (!ok)
            {
                throw new ArgumentException($"Metadata key '{key}' has an invalid character '{c}'; allowed are 0-9 a-z _ - .", nameof(key));
            }
        }

        if (lower.StartsWith("grpc-", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Metadata key '{key}' is reserved: keys starting with 'grpc-' belong to the protocol.", nameof(key));
        }

        return lower;
    }
}
