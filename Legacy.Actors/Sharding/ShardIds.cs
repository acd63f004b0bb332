using System.Security.Cryptography;
using System.Text;

namespace Legacy.Actors.Sharding;

/// <summary>Entity id to shard and to actor name: stable across processes, platforms and versions.</summary>
public static class ShardIds
{
    /// <summary>FNV-1a of the UTF-8 id, modulo the shard count (string.GetHashCode is randomized per process).</summary>
    public static int ShardOf(string entityId, int numberOfShards)
    {
        ArgumentNullException.ThrowIfNull(entityId);
        ArgumentOutOfRangeException.ThrowIfLessThan(numberOfShards, 1);
        var hash = 2166136261u;
        Span<byte> buffer = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetByteCount(entityId) <= buffer.Length
            ? buffer[..Encoding.UTF8.GetBytes(entityId, buffer)]
            : Encoding.UTF8.GetBytes(entityId);
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 16777619u;
        }

        return (int)(hash % (uint)numberOfShards);
    }

    /// <summary>An actor name for any entity id: escaped, or hashed when too long to be a name.</summary>
    internal static string ActorName(string entityId)
    {
        var escaped = Uri.EscapeDataString(entityId);
        return escaped.Length is > 0 and <= 200
            ? escaped
            : "h-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(entityId)));
    }
}
