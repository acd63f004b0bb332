using System.Buffers;
using System.Buffers.Binary;

namespace Cluster.Grpc.Wire;

/// <summary>
/// The length-prefixed message: one byte compressed flag (0 or 1), a four-byte big-endian
/// length, then the message. Limits are checked on the header, before the body is buffered.
/// </summary>
internal static class MessageFraming
{
    public const int HeaderSize = 5;

    public static void WriteHeader(Span<byte> destination, bool compressed, int length)
    {
        destination[0] = compressed ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)length);
    }

    /// <summary>Reads a header; throws INTERNAL for a bad flag, RESOURCE_EXHAUSTED past the limit.</summary>
    public static int ParseHeader(ReadOnlySpan<byte> header, int maxMessageSize, out bool compressed)
    {
        var flag = header[0];
        if (flag > 1)
        {
            throw new RpcException(StatusCode.Internal, $"Invalid compressed flag {flag} in message header.");
        }

        compressed = flag == 1;
        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (length > (uint)maxMessageSize)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"Received message larger than max ({length} vs. {maxMessageSize}).");
        }

        return (int)length;
    }

    /// <summary>Takes one whole message off the front of <paramref name="buffer"/>, if it is all there.</summary>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxMessageSize, out bool compressed, out ReadOnlySequence<byte> payload)
    {
        payload = default;
        compressed = false;
        if (buffer.Length < HeaderSize)
        {
            return false;
        }

        int length;
        if (buffer.FirstSpan.Length >= HeaderSize)
        {
            length = ParseHeader(buffer.FirstSpan, maxMessageSize, out compressed);
        }
        else
        {
            Span<byte> header = stackalloc byte[HeaderSize];
            buffer.Slice(0, HeaderSize).CopyTo(header);
            length = ParseHeader(header, maxMessageSize, out compressed);
        }

        if (buffer.Length - HeaderSize < length)
        {
            return false;
        }

        payload = buffer.Slice(HeaderSize, length);
        buffer = buffer.Slice(HeaderSize + length);
        return true;
    }
}
