using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using Cluster.Testing;
using Cluster.Testing.Echo;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Cluster.Tests.Grpc;

/// <summary>
/// What our host's settings promise, seen from outside: message size limits in all four
/// directions (compressed input included), h2 over TLS, keepalive pings that close a silent
/// connection, and a clear UNAVAILABLE when nobody listens.
/// </summary>
public sealed class LimitsCompressionAndTlsTests
{
    private static EchoRequest WithPayload(int size) => new() { Payload = ByteString.CopyFrom(new byte[size]) };

    [Fact]
    public async Task Server_rejects_requests_over_its_receive_limit_and_keeps_serving()
    {
        await using var server = await EchoServer.StartAsync(o => o with { MaxReceiveMessageSize = 1024 });
        using var channel = server.Channel();
        var client = EchoServer.Client(channel);

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await client.UnaryAsync(WithPayload(2000)));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Equal(1000, (await client.UnaryAsync(WithPayload(1000))).Payload.Length);
        await server.AssertIdleAsync();
    }

    [Fact]
    public async Task Server_refuses_to_send_responses_over_its_send_limit()
    {
        await using var server = await EchoServer.StartAsync(o => o with { MaxSendMessageSize = 1024 });
        using var channel = server.Channel();

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await EchoServer.Client(channel).UnaryAsync(new EchoRequest { ResponseSize = 4096 }));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task Client_rejects_responses_over_its_receive_limit()
    {
        await using var server = await EchoServer.StartAsync();
        using var channel = server.Channel(new GrpcChannelOptions { MaxReceiveMessageSize = 1024 });

        using var call = EchoServer.Client(channel).ServerStream(new EchoRequest { ResponseCount = 3, ResponseSize = 4096 });
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        await server.AssertIdleAsync();
    }

    [Fact]
    public async Task Client_refuses_to_send_requests_over_its_send_limit()
    {
        await using var server = await EchoServer.StartAsync();
        using var channel = server.Channel(new GrpcChannelOptions { MaxSendMessageSize = 100 });
        var client = EchoServer.Client(channel);

        var unary = await Assert.ThrowsAsync<RpcException>(async () => await client.UnaryAsync(WithPayload(200)));
        RpcException streamed;
        using (var stream = client.ClientStream())
        {
            streamed = await Assert.ThrowsAsync<RpcException>(() => stream.RequestStream.WriteAsync(WithPayload(200)));
        }

        Assert.Equal(StatusCode.ResourceExhausted, unary.StatusCode);
        Assert.Equal(StatusCode.ResourceExhausted, streamed.StatusCode);

        // The stream's handler may have started (the call opened before the write failed on the
        // client); disposing the call above cancels it, so the server ends up idle either way.
        await server.AssertIdleAsync();
    }

    [Fact]
    public async Task Gzip_requests_round_trip_and_compression_bombs_stop_at_the_receive_limit()
    {
        await using var server = await EchoServer.StartAsync(o => o with { MaxReceiveMessageSize = 64 * 1024 });
        using var channel = server.Channel();
        var client = EchoServer.Client(channel);
        var gzip = new Metadata { { "grpc-internal-encoding-request", "gzip" } };
        var compressible = ByteString.CopyFromUtf8(string.Concat(Enumerable.Repeat("compressible ", 2_000)));

        Assert.Equal(compressible, (await client.UnaryAsync(new EchoRequest { Payload = compressible }, gzip)).Payload);

        // 8 MiB of zeros compresses to a few KiB: under the limit on the wire, far over it expanded.
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await client.UnaryAsync(WithPayload(8 * 1024 * 1024), gzip));
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        await server.AssertIdleAsync();
    }

    [Fact]
    public async Task Tls_endpoint_serves_h2_negotiated_by_alpn_to_a_client_that_trusts_it()
    {
        using var certificate = TestCertificates.CreateSelfSigned();
        await using var server = await EchoServer.StartAsync(o => o with { Certificate = certificate });
        Assert.Equal("https", server.Address.Scheme);
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == certificate.GetCertHashString(),
            },
        };
        using var channel = server.Channel(new GrpcChannelOptions { HttpHandler = handler });

        // The endpoint speaks HTTP/2 only: an answer means ALPN settled on h2.
        var echoed = await EchoServer.Client(channel).UnaryAsync(new EchoRequest { Message = "over tls" });

        Assert.Equal("over tls", echoed.Message);
    }

    [Fact]
    public async Task Tls_endpoint_refuses_a_client_that_does_not_trust_its_certificate()
    {
        using var certificate = TestCertificates.CreateSelfSigned();
        await using var server = await EchoServer.StartAsync(o => o with { Certificate = certificate });
        using var channel = server.Channel();

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await EchoServer.Client(channel).UnaryAsync(new EchoRequest()));

        // Grpc.Net.Client reports a failed TLS handshake as INTERNAL (not UNAVAILABLE as for a refused connection).
        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.Contains("SSL", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keepalive_pings_close_a_connection_whose_peer_stopped_answering()
    {
        await using var server = await EchoServer.StartAsync(o => o with { KeepAlivePingDelay = TimeSpan.FromSeconds(1), KeepAlivePingTimeout = TimeSpan.FromSeconds(1) });
        using var socket = new TcpClient();
        await socket.ConnectAsync("127.0.0.1", server.Address.Port);
        var stream = socket.GetStream();

        // An HTTP/2 client that says hello, acknowledges the server's settings, then goes silent
        // (never answers a PING): what a peer behind a dead NAT entry looks like.
        await stream.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
        await stream.WriteAsync(Frame(type: 4, flags: 0));
        var types = new List<byte>();
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var header = new byte[9];
        while (await stream.ReadAtLeastAsync(header, 9, throwOnEndOfStream: false, bound.Token) == 9)
        {
            var length = (header[0] << 16) | (header[1] << 8) | header[2];
            await stream.ReadExactlyAsync(new byte[length], bound.Token);
            types.Add(header[3]);
            if (header[3] == 4 && (header[4] & 1) == 0)
            {
                await stream.WriteAsync(Frame(type: 4, flags: 1), bound.Token); // SETTINGS ACK
            }
        }

        // The server pinged (6), gave up on the answer and said goodbye (7) before closing.
        Assert.Contains((byte)6, types);
        Assert.Equal(7, types[^1]);
    }

    [Fact]
    public async Task Connection_refused_is_unavailable()
    {
        int port;
        await using (var server = await EchoServer.StartAsync())
        {
            port = server.Address.Port;
        }

        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await EchoServer.Client(channel).UnaryAsync(new EchoRequest()));

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
    }

    private static byte[] Frame(byte type, byte flags)
    {
        var frame = new byte[9];
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(5), 0);
        return frame;
    }
}
