using System.Net.Security;
using Cluster.Grpc;
using Cluster.Grpc.Client;
using Cluster.Grpc.Server;
using Cluster.Testing;
using Cluster.Testing.Echo;
using Google.Protobuf;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Cluster.Tests.Grpc;

/// <summary>Message size limits in all four directions, compression, and h2 over TLS.</summary>
public sealed class LimitsCompressionAndTlsTests
{
    private static EchoRequest WithPayload(int size) => new() { Payload = ByteString.CopyFrom(new byte[size]) };

    [Fact]
    public async Task Server_rejects_requests_over_its_receive_limit_and_keeps_serving()
    {
        await using var server = await EchoServer.StartAsync(new GrpcServerOptions { MaxReceiveMessageSize = 1024 });
        using var channel = server.Channel();

        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(EchoMethods.Unary, WithPayload(2000)));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains("larger than max", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1000, (await channel.UnaryAsync(EchoMethods.Unary, WithPayload(1000))).Payload.Length);
        await server.AssertIdleAsync();
    }

    [Fact]
    public async Task Server_refuses_to_send_responses_over_its_send_limit()
    {
        await using var server = await EchoServer.StartAsync(new GrpcServerOptions { MaxSendMessageSize = 1024 });
        using var channel = server.Channel();

        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(EchoMethods.Unary, new EchoRequest { ResponseSize = 4096 }));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains("Sending message larger than max", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_rejects_responses_over_its_receive_limit()
    {
        await using var server = await EchoServer.StartAsync();
        using var channel = server.Channel(new GrpcChannelOptions { MaxReceiveMessageSize = 1024 });

        using var call = channel.ServerStreaming(EchoMethods.ServerStream, new EchoRequest { ResponseCount = 3, ResponseSize = 4096 });
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext().AsTask());

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Equal(StatusCode.ResourceExhausted, call.GetStatus().Code);
        await server.AssertIdleAsync();
    }

    [Fact]
    public async Task Client_refuses_to_send_requests_over_its_send_limit()
    {
        await using var server = await EchoServer.StartAsync();
        using var channel = server.Channel(new GrpcChannelOptions { MaxSendMessageSize = 100 });

        var unary = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(EchoMethods.Unary, WithPayload(200)));
        Assert.Equal(0, server.Dispatcher.TotalCalls);
        using var stream = channel.ClientStreaming(EchoMethods.ClientStream);
        var streamed = await Assert.ThrowsAsync<RpcException>(() => stream.RequestStream.WriteAsync(WithPayload(200)));

        Assert.Equal(StatusCode.ResourceExhausted, unary.StatusCode);
        Assert.Equal(StatusCode.ResourceExhausted, streamed.StatusCode);
        Assert.Equal(StatusCode.ResourceExhausted, (await Assert.ThrowsAsync<RpcException>(() => stream.ResponseAsync)).StatusCode);
        await server.AssertIdleAsync();
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    public async Task Compressed_requests_and_responses_round_trip(string encoding)
    {
        string? requestEncoding = null;
        string? acceptEncoding = null;
        var method = new Method<EchoRequest, EchoReply>("test.Compression", "Echo", MethodType.DuplexStreaming);
        await using var server = await EchoServer.StartAsync(
            new GrpcServerOptions { ResponseCompression = encoding },
            r => r.AddDuplexStreaming(method, async (requests, responses, ctx) =>
            {
                requestEncoding = ctx.HttpContext.Request.Headers["grpc-encoding"];
                acceptEncoding = ctx.HttpContext.Request.Headers["grpc-accept-encoding"];
                await foreach (var request in requests.ReadAllAsync())
                {
                    await responses.WriteAsync(new EchoReply { Payload = request.Payload });
                }
            }));
        using var channel = server.Channel(new GrpcChannelOptions { RequestCompression = encoding });
        var payload = ByteString.CopyFromUtf8(string.Concat(Enumerable.Repeat("compressible ", 10_000)));

        using var call = channel.DuplexStreaming(method);
        await call.RequestStream.WriteAsync(new EchoRequest { Payload = payload });
        Assert.True(await call.ResponseStream.MoveNext());
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext());

        Assert.Equal(payload, call.ResponseStream.Current.Payload);
        Assert.Equal(encoding, requestEncoding);
        Assert.Contains(encoding, acceptEncoding, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compression_bombs_are_stopped_at_the_receive_limit()
    {
        await using var server = await EchoServer.StartAsync(new GrpcServerOptions { MaxReceiveMessageSize = 64 * 1024 });
        using var channel = server.Channel(new GrpcChannelOptions { RequestCompression = "gzip" });

        // 8 MiB of zeros compresses to a few KiB: under the limit on the wire, far over it expanded.
        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(EchoMethods.Unary, WithPayload(8 * 1024 * 1024)));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public void Unsupported_compression_is_refused_at_configuration()
    {
        Assert.Throws<ArgumentException>(() => GrpcChannel.ForAddress("http://127.0.0.1:1", new GrpcChannelOptions { RequestCompression = "br" }));
        Assert.Throws<ArgumentException>(() => new GrpcDispatcher(new GrpcServiceRegistry(), new GrpcServerOptions { ResponseCompression = "br" }));
    }

    [Fact]
    public async Task Tls_endpoint_negotiates_h2_by_alpn()
    {
        using var certificate = TestCertificates.CreateSelfSigned();
        var method = new Method<EchoRequest, EchoReply>("test.Tls", "Info", MethodType.Unary);
        await using var server = await EchoServer.StartAsync(
            endpoint: GrpcEndpoint.Loopback() with { Certificate = certificate },
            extra: r => r.AddUnary(method, (_, ctx) => Task.FromResult(new EchoReply
            {
                Message = $"{ctx.HttpContext.Request.Protocol} {ctx.HttpContext.Request.Scheme} "
                    + System.Text.Encoding.ASCII.GetString(ctx.HttpContext.Features.Get<ITlsApplicationProtocolFeature>()!.ApplicationProtocol.Span),
            })));
        Assert.Equal("https", server.Address.Scheme);
        var tls = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == certificate.GetCertHashString(),
        };
        using var channel = server.Channel(new GrpcChannelOptions { Tls = tls });

        var reply = await channel.UnaryAsync(method, new EchoRequest());
        var echoed = await channel.UnaryAsync(EchoMethods.Unary, new EchoRequest { Message = "over tls" });

        Assert.Equal("HTTP/2 https h2", reply.Message);
        Assert.Equal("over tls", echoed.Message);
    }

    [Fact]
    public async Task Mutual_tls_shows_the_client_certificate_to_the_handler_and_refuses_calls_without_one()
    {
        using var serverCertificate = TestCertificates.CreateSelfSigned();
        using var clientCertificate = TestCertificates.CreateSelfSigned("web");
        var method = new Method<EchoRequest, EchoReply>("test.Tls", "WhoAmI", MethodType.Unary);
        await using var server = await EchoServer.StartAsync(
            endpoint: GrpcEndpoint.Loopback() with
            {
                Certificate = serverCertificate,
                ConfigureTls = https =>
                {
                    https.ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate;
                    https.ClientCertificateValidation = (presented, _, _) => presented.GetCertHashString() == clientCertificate.GetCertHashString();
                },
            },
            extra: r => r.AddUnary(method, (_, ctx) => Task.FromResult(new EchoReply { Message = ctx.ClientCertificate?.Subject ?? "none" })));
        bool TrustServer(object sender, System.Security.Cryptography.X509Certificates.X509Certificate? presented, System.Security.Cryptography.X509Certificates.X509Chain? chain, SslPolicyErrors errors) =>
            presented is not null && presented.GetCertHashString() == serverCertificate.GetCertHashString();

        using var withCertificate = server.Channel(new GrpcChannelOptions
        {
            Tls = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = TrustServer, ClientCertificates = [clientCertificate] },
        });
        using var withoutCertificate = server.Channel(new GrpcChannelOptions
        {
            Tls = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = TrustServer },
        });

        Assert.Equal("CN=web", (await withCertificate.UnaryAsync(method, new EchoRequest())).Message);
        var ex = await Assert.ThrowsAsync<RpcException>(() => withoutCertificate.UnaryAsync(method, new EchoRequest()));
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
    }

    [Fact]
    public async Task Tls_endpoint_refuses_an_untrusted_server_certificate_on_the_client()
    {
        using var certificate = TestCertificates.CreateSelfSigned();
        await using var server = await EchoServer.StartAsync(endpoint: GrpcEndpoint.Loopback() with { Certificate = certificate });
        using var channel = server.Channel();

        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(EchoMethods.Unary, new EchoRequest()));

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
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
        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(EchoMethods.Unary, new EchoRequest()));

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
    }
}
