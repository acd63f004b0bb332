using System.Buffers.Binary;
using System.Numerics;

namespace Cluster.Raft.Storage;

internal enum WalRecordType : byte
{
    Header = 1,
    Entry = 2,
    HardState = 3,
    SnapshotMark = 4,
}

/// <summary>
/// One log record on disk: <c>[u32 length][u32 crc32c(type, payload)][u8 type][payload]</c>,
/// little-endian. The checksum covers the type, so a torn or flipped byte anywhere is caught.
/// </summary>
internal static class WalRecord
{
    public const int HeaderSize = 9;

    /// <summary>Larger lengths are treated as damage, not as a record to allocate for.</summary>
    public const int MaxPayload = 64 * 1024 * 1024;

    public static void Write(Stream output, WalRecordType type, ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], Checksum(type, payload));
        header[8] = (byte)type;
        output.Write(header);
        output.Write(payload);
    }

    public static uint Checksum(WalRecordType type, ReadOnlySpan<byte> payload) =>
        ~Continue(BitOperations.Crc32C(0xFFFFFFFFu, (byte)type), payload);

    /// <summary>Feeds more bytes into a running (not yet inverted) CRC32C state.</summary>
    public static uint Continue(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return crc;
    }

    /// <summary>
    /// Reads the record at <paramref name="offset"/>; false when what is there is not a whole,
    /// intact record (end of data, a torn write, a zeroed tail, or damage).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> data, int offset, out WalRecordType type, out ReadOnlySpan<byte> payload, out int next)
    {
        type = default;
        payload = default;
        next = offset;
        if (data.Length - offset < HeaderSize)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(data[offset..]);
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(data[(offset + 4)..]);
        var rawType = data[offset + 8];
        if (length > MaxPayload || length > (uint)(data.Length - offset - HeaderSize) || rawType is < 1 or > 4)
        {
            return false;
        }

        type = (WalRecordType)rawType;
        payload = data.Slice(offset + HeaderSize, (int)length);
        if (Checksum(type, payload) != crc)
        {
            return false;
        }

        next = offset + HeaderSize + (int)length;
        return true;
    }
}
