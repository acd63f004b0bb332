using Cluster.Testing.Echo;
using Google.Protobuf;

namespace Cluster.Benchmarks;

/// <summary>The one message every pair exchanges.</summary>
public static class BenchPayload
{
    public const int PayloadSize = 100;

    public static readonly EchoRequest Request = new() { Message = "ping", Payload = ByteString.CopyFrom(new byte[PayloadSize]) };

    public static readonly EchoReply Reply = new() { Message = "ping", Payload = ByteString.CopyFrom(new byte[PayloadSize]) };

    /// <summary>The request and the reply as framed gRPC messages (5-byte header + protobuf).</summary>
    public static byte[] Framed(IMessage message)
    {
        var body = message.ToByteArray();
        var frame = new byte[5 + body.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)body.Length);
        body.CopyTo(frame, 5);
        return frame;
    }
}
