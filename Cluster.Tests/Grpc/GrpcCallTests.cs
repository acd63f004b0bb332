using System.Text;
using Cluster.Grpc;
using Cluster.Grpc.Client;
using Cluster.Testing.Echo;
using Google.Protobuf;

namespace Cluster.Tests.Grpc;

/// <summary>Our client against our server over real loopback sockets: the four call shapes, metadata and statuses.</summary>
public sealed class GrpcCallTests : IAsyncLifetime
{
    private EchoServer _server = null!;
    private GrpcChannel _channel = null!;

    public async Task InitializeAsync()
    {
        _server = await EchoServer.StartAsync();
        _channel = _server.Channel();
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Unary_returns_the_response_with_headers_trailers_and_ok_status()
    {
        var headers = new Metadata().Add("x-echo", "hello").Add("x-echo-bin", new byte[] { 0, 1, 2, 255 });
        using var call = _channel.Unary(EchoMethods.Unary, new EchoRequest { Message = "ping", Payload = ByteString.CopyFromUtf8("abc") }, new CallOptions(headers));

        var reply = await call;

        Assert.Equal("ping", reply.Message);
        Assert.Equal("abc", reply.Payload.ToStringUtf8());
        var responseHeaders = await call.ResponseHeadersAsync;
        Assert.Equal("hello", responseHeaders.GetValue("x-echo"));
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, responseHeaders.GetValueBytes("x-echo-bin"));
        Assert.Equal(StatusCode.OK, call.GetStatus().Code);
        Assert.Equal("hello", call.GetTrailers().GetValue("x-echo-trailer"));
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, call.GetTrailers().GetValueBytes("x-echo-trailer-bin"));
    }

    [Theory]
    [InlineData(StatusCode.NotFound, "no such key")]
    [InlineData(StatusCode.FailedPrecondition, "percent % and ünïcödé and\nnewline")]
    [InlineData(StatusCode.PermissionDenied, "")]
    public async Task Handler_errors_arrive_with_code_detail_and_trailers(StatusCode code, string detail)
    {
        using var call = _channel.Unary(EchoMethods.Unary, new EchoRequest { StatusCode = (int)code, StatusMessage = detail });

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);

        Assert.Equal(code, ex.StatusCode);
        Assert.Equal(detail, ex.Status.Detail);
        Assert.Equal("requested", ex.Trailers.GetValue("x-error-detail"));
        Assert.Equal(code, call.GetStatus().Code);
    }

    [Fact]
    public async Task Server_streaming_delivers_every_message_in_order()
    {
        using var call = _channel.ServerStreaming(EchoMethods.ServerStream, new EchoRequest { Message = "m", ResponseCount = 250 });

        var indexes = new List<int>();
        await foreach (var reply in call.ResponseStream.ReadAllAsync())
        {
            indexes.Add(reply.Index);
        }

        Assert.Equal(Enumerable.Range(0, 250), indexes);
        Assert.Equal(StatusCode.OK, call.GetStatus().Code);
        Assert.False(await call.ResponseStream.MoveNext());
    }

    [Fact]
    public async Task Server_streaming_error_after_messages_delivers_the_messages_then_the_status()
    {
        using var call = _channel.ServerStreaming(EchoMethods.ServerStream, new EchoRequest { ResponseCount = 3, StatusCode = (int)StatusCode.Aborted, StatusMessage = "stop" });

        var received = 0;
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in call.ResponseStream.ReadAllAsync())
            {
                received++;
            }
        });

        Assert.Equal(3, received);
        Assert.Equal(StatusCode.Aborted, ex.StatusCode);
        Assert.Equal("stop", ex.Status.Detail);
    }

    [Fact]
    public async Task Client_streaming_receives_every_request()
    {
        using var call = _channel.ClientStreaming(EchoMethods.ClientStream);
        for (var i = 0; i < 100; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Message = i.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        }

        await call.RequestStream.CompleteAsync();
        var reply = await call;

        Assert.Equal(100, reply.Index);
        Assert.Equal(string.Join(",", Enumerable.Range(0, 100)), reply.Message);
    }

    [Fact]
    public async Task Duplex_streaming_interleaves_requests_and_responses()
    {
        using var call = _channel.DuplexStreaming(EchoMethods.Bidi);
        for (var i = 0; i < 50; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Message = $"m{i}" });
            Assert.True(await call.ResponseStream.MoveNext());
            Assert.Equal($"m{i}", call.ResponseStream.Current.Message);
            Assert.Equal(i, call.ResponseStream.Current.Index);
        }

        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.OK, call.GetStatus().Code);
    }

    [Fact]
    public async Task Duplex_streaming_error_ends_both_directions()
    {
        using var call = _channel.DuplexStreaming(EchoMethods.Bidi);
        await call.RequestStream.WriteAsync(new EchoRequest { Message = "ok" });
        Assert.True(await call.ResponseStream.MoveNext());
        await call.RequestStream.WriteAsync(new EchoRequest { StatusCode = (int)StatusCode.InvalidArgument, StatusMessage = "bad request" });

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext().AsTask());
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        var writeError = await Assert.ThrowsAsync<RpcException>(() => call.RequestStream.WriteAsync(new EchoRequest()));
        Assert.Equal(StatusCode.InvalidArgument, writeError.StatusCode);
        await _server.AssertIdleAsync();
    }

    [Fact]
    public async Task Unknown_method_and_unknown_service_are_unimplemented()
    {
        var missingMethod = new Method<EchoRequest, EchoReply>(EchoMethods.ServiceName, "Missing", MethodType.Unary);
        var missingService = new Method<EchoRequest, EchoReply>("nope.Service", "Unary", MethodType.DuplexStreaming);

        var ex = await Assert.ThrowsAsync<RpcException>(() => _channel.UnaryAsync(missingMethod, new EchoRequest()));
        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
        Assert.Contains("/cluster.testing.Echo/Missing", ex.Status.Detail, StringComparison.Ordinal);

        using var duplex = _channel.DuplexStreaming(missingService);
        var streamEx = await Assert.ThrowsAsync<RpcException>(() => duplex.ResponseStream.MoveNext().AsTask());
        Assert.Equal(StatusCode.Unimplemented, streamEx.StatusCode);
    }

    [Fact]
    public async Task Large_messages_cross_many_http2_frames()
    {
        var payload = new byte[3 * 1024 * 1024];
        new Random(42).NextBytes(payload);

        var reply = await _channel.UnaryAsync(EchoMethods.Unary, new EchoRequest { Payload = ByteString.CopyFrom(payload) });

        Assert.Equal(payload, reply.Payload.ToByteArray());
    }

    [Fact]
    public async Task Hundreds_of_concurrent_calls_share_the_channel()
    {
        var calls = Enumerable.Range(0, 300)
            .Select(i => _channel.UnaryAsync(EchoMethods.Unary, new EchoRequest { Message = $"c{i}" }))
            .ToArray();

        var replies = await Task.WhenAll(calls);

        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"c{i}"), replies.Select(r => r.Message));
        await _server.AssertIdleAsync();
    }

    [Fact]
    public async Task Request_headers_reach_the_handler_without_transport_headers()
    {
        Metadata? seen = null;
        var method = new Method<EchoRequest, EchoReply>("test.Headers", "Get", MethodType.Unary);
        await using var server = await EchoServer.StartAsync(extra: r => r.AddUnary(method, (req, ctx) =>
        {
            seen = ctx.RequestHeaders;
            return Task.FromResult(new EchoReply { Message = ctx.Method + " " + ctx.Peer.Split(':')[0] });
        }));
        using var channel = server.Channel();

        var reply = await channel.UnaryAsync(method, new EchoRequest(), new CallOptions(new Metadata().Add("Authorization", "Bearer t").Add("x-trace-bin", Encoding.UTF8.GetBytes("τ"))));

        Assert.Equal("/test.Headers/Get ipv4", reply.Message);
        Assert.NotNull(seen);
        Assert.Equal("Bearer t", seen!.GetValue("authorization"));
        Assert.Equal("τ", Encoding.UTF8.GetString(seen.GetValueBytes("x-trace-bin")!));
        Assert.DoesNotContain(seen, e => e.Key is "content-type" or "te" || e.Key.StartsWith(':') || e.Key.StartsWith("grpc-", StringComparison.Ordinal));
    }
}
