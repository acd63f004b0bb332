using System.Security.Cryptography;

namespace Cluster.Gossip.Security;

/// <summary>
/// The gossip encryption keys: packets and streams are sealed with AES-GCM under the primary
/// key and opened with any installed key, so a key can be rotated across a running pool
/// (install everywhere, make it primary everywhere, remove the old one) without a restart.
/// Keys are 16, 24 or 32 bytes, written in base64 as Consul's are. Thread-safe.
/// </summary>
public sealed class Keyring
{
    private readonly Lock _gate = new();
    private List<byte[]> _keys;
    private byte[] _primary;

    public Keyring(IEnumerable<byte[]> keys, byte[]? primary = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = [.. keys.Select(Checked)];
        if (_keys.Count == 0)
        {
            throw new ArgumentException("a keyring needs at least one key", nameof(keys));
        }

        _primary = primary is null ? _keys[0] : Checked(primary);
        if (!_keys.Any(k => k.AsSpan().SequenceEqual(_primary)))
        {
            _keys.Insert(0, _primary);
        }
    }

    /// <summary>A new random 32-byte key in base64 (what <c>cluster keygen</c> prints).</summary>
    public static string GenerateKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>Parses a base64 key; a clear error otherwise.</summary>
    public static byte[] ParseKey(string base64)
    {
        ArgumentNullException.ThrowIfNull(base64);
        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64.Trim());
        }
        catch (FormatException)
        {
            throw new ArgumentException("a gossip key must be base64 (generate one with `cluster keygen`)", nameof(base64));
        }

        return Checked(key);
    }

    /// <summary>The installed keys in base64, primary first.</summary>
    public IReadOnlyList<string> List()
    {
        lock (_gate)
        {
            return [Convert.ToBase64String(_primary), .. _keys.Where(k => !k.AsSpan().SequenceEqual(_primary)).Select(Convert.ToBase64String)];
        }
    }

    public string Primary
    {
        get
        {
            lock (_gate)
            {
                return Convert.ToBase64String(_primary);
            }
        }
    }

    public void Install(byte[] key)
    {
        var checkedKey = Checked(key);
        lock (_gate)
        {
            if (!_keys.Any(k => k.AsSpan().SequenceEqual(checkedKey)))
            {
                _keys = [.. _keys, checkedKey];
            }
        }
    }

    /// <summary>Makes an installed key the one packets are sealed with.</summary>
    public void Use(byte[] key)
    {
        lock (_gate)
        {
            _primary = _keys.FirstOrDefault(k => k.AsSpan().SequenceEqual(key))
                ?? throw new ArgumentException("install a key before using it as the primary", nameof(key));
        }
    }

    /// <summary>Removes a key that is not the primary (packets still sealed with it stop opening).</summary>
    public void Remove(byte[] key)
    {
        lock (_gate)
        {
            if (_primary.AsSpan().SequenceEqual(key))
            {
                throw new ArgumentException("the primary key cannot be removed; use another key first", nameof(key));
            }

            _keys = [.. _keys.Where(k => !k.AsSpan().SequenceEqual(key))];
        }
    }

    internal (byte[] Primary, List<byte[]> All) Snapshot()
    {
        lock (_gate)
        {
            return (_primary, _keys);
        }
    }

    private static byte[] Checked(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Length is 16 or 24 or 32
            ? [.. key]
            : throw new ArgumentException($"a gossip key must be 16, 24 or 32 bytes, not {key.Length}", nameof(key));
    }
}
