using System.Buffers.Binary;
using Cluster.Raft.Wire;
using Google.Protobuf;

namespace Cluster.Raft.Server;

/// <summary>A snapshot's contents: [u32 little-endian length][SnapshotMeta][state machine bytes].</summary>
internal static class SnapshotFile
{
    public static void Write(Stream destination, SnapshotMeta meta, Action<Stream> writeState)
    {
        var header = meta.ToByteArray();
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)header.Length);
        destination.Write(length);
        destination.Write(header);
        writeState(destination);
    }

    public static (SnapshotMeta Meta, ReadOnlyMemory<byte> State) Read(byte[] contents)
    {
        if (contents.Length < 4)
        {
            throw new InvalidDataException("snapshot too short for its header");
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(contents);
        if (length > contents.Length - 4)
        {
            throw new InvalidDataException($"snapshot header of {length} bytes is longer than the file");
        }

        var meta = SnapshotMeta.Parser.ParseFrom(contents, 4, (int)length);
        return (meta, contents.AsMemory(4 + (int)length));
    }
}
