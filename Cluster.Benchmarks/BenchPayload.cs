using Cluster.Grpc.Server;
using Cluster.Testing.Echo;
using Google.Protobuf;

namespace Cluster.Benchmarks;

/// <summary>The one message every pair exchanges, and the lean echo handlers our server runs.</summary>
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

    public static GrpcServiceRegistry Services() => new GrpcServiceRegistry()
        .AddUnary(EchoMethods.Unary, static (request, _) => Task.FromResult(new EchoReply { Message = request.Message, Payload = request.Payload }))
        .AddDuplexStreaming(EchoMethods.Bidi, static async (requests, responses, _) =>
        {
            while (await requests.MoveNext())
            {
                var request = requests.Current;
                await responses.WriteAsync(new EchoReply { Message = request.Message, Payload = request.Payload });
            }
        });
}
