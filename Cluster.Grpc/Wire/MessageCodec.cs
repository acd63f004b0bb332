using System.Buffers;
using System.IO.Compression;
using Google.Protobuf;

namespace Cluster.Grpc.Wire;

/// <summary>Protobuf messages to and from framed bytes, with optional compression and size limits.</summary>
internal static class MessageCodec
{
    private const int SmallMessage = 16 * 1024;

    /// <summary>Writes one framed message to <paramref name="writer"/>.</summary>
    public static void Write(IBufferWriter<byte> writer, IMessage message, string? encoding, CompressionLevel level, int maxSendSize)
    {
        var size = message.CalculateSize();
        if (encoding is null)
        {
            CheckSendSize(size, maxSendSize);
            if (size <= SmallMessage)
            {
                // One span for header and body: cheaper than the segmented writer for small messages.
                var span = writer.GetSpan(MessageFraming.HeaderSize + size);
                MessageFraming.WriteHeader(span, compressed: false, size);
                message.WriteTo(span.Slice(MessageFraming.HeaderSize, size));
                writer.Advance(MessageFraming.HeaderSize + size);
                return;
            }

            MessageFraming.WriteHeader(writer.GetSpan(MessageFraming.HeaderSize), compressed: false, size);
            writer.Advance(MessageFraming.HeaderSize);
            message.WriteTo(writer);
            return;
        }

        var raw = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            message.WriteTo(raw.AsSpan(0, size));
            var compressed = MessageCompression.Compress(encoding, raw.AsSpan(0, size), level);
            CheckSendSize(compressed.Length, maxSendSize);
            var span = writer.GetSpan(MessageFraming.HeaderSize + compressed.Length);
            MessageFraming.WriteHeader(span, compressed: true, compressed.Length);
            compressed.CopyTo(span[MessageFraming.HeaderSize..]);
            writer.Advance(MessageFraming.HeaderSize + compressed.Length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(raw);
        }
    }

    /// <summary>Parses a message body taken off the wire; <paramref name="role"/> ("request" or "response") names it in errors.</summary>
    public static T Read<T>(ReadOnlySequence<byte> payload, bool compressed, string? encoding, MessageParser<T> parser, int maxSize, string role)
        where T : IMessage<T>
    {
        if (!compressed)
        {
            return Parse(parser, payload, role);
        }

        if (encoding is null)
        {
            throw new RpcException(StatusCode.Internal, $"The {role} message is compressed but no grpc-encoding was given.");
        }

        var buffer = MessageCompression.Decompress(encoding, payload, maxSize, out var length);
        try
        {
            return Parse(parser, new ReadOnlySequence<byte>(buffer, 0, length), role);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static T Parse<T>(MessageParser<T> parser, ReadOnlySequence<byte> bytes, string role)
        where T : IMessage<T>
    {
        try
        {
            return bytes.IsSingleSegment ? parser.ParseFrom(bytes.FirstSpan) : parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"Failed to deserialize {role} message."), null, ex);
        }
    }

    public static void CheckSendSize(int size, int maxSendSize)
    {
        if (size > maxSendSize)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"Sending message larger than max ({size} vs. {maxSendSize}).");
        }
    }
}
