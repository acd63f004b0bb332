using Cluster.Grpc;
using Cluster.Grpc.Client;
using Cluster.Testing;
using Cluster.Testing.Echo;
using Google.Protobuf;

namespace Cluster.Tests.Interop;

/// <summary>Our client calling a real grpc-js server (node/interop/server.js).</summary>
public sealed class GrpcJsServerTests : IAsyncLifetime
{
    private PeerProcess _peer = null!;
    private GrpcChannel _channel = null!;

    public async Task InitializeAsync()
    {
        _peer = await PeerProcess.StartNodeServerAsync("server.js");
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_peer.Port}");
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _peer.DisposeAsync();
    }

    [Fact]
    public async Task Unary_with_metadata_both_ways()
    {
        var headers = new Metadata().Add("x-echo", "from-dotnet").Add("x-echo-bin", new byte[] { 9, 8, 7 });
        using var call = _channel.Unary(EchoMethods.Unary, new EchoRequest { Message = "hi", Payload = ByteString.CopyFromUtf8("xyz") }, new CallOptions(headers));

        var reply = await call;

        Assert.Equal("hi", reply.Message);
        Assert.Equal("xyz", reply.Payload.ToStringUtf8());
        Assert.Equal("from-dotnet", (await call.ResponseHeadersAsync).GetValue("x-echo"));
        Assert.Equal("from-dotnet", call.GetTrailers().GetValue("x-echo-trailer"));
        Assert.Equal(new byte[] { 9, 8, 7 }, call.GetTrailers().GetValueBytes("x-echo-trailer-bin"));
    }

    [Fact]
    public async Task Error_status_message_and_trailers()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            _channel.UnaryAsync(EchoMethods.Unary, new EchoRequest { StatusCode = 9, StatusMessage = "precondition: caf\u00e9 50%" }));

        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.Equal("precondition: caf\u00e9 50%", ex.Status.Detail);
        Assert.Equal("requested", ex.Trailers.GetValue("x-error-detail"));
    }

    [Fact]
    public async Task Bidi_streaming_ping_pong()
    {
        using var call = _channel.DuplexStreaming(EchoMethods.Bidi);
        for (var i = 0; i < 100; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Message = $"m{i}" });
            Assert.True(await call.ResponseStream.MoveNext());
            Assert.Equal(i, call.ResponseStream.Current.Index);
        }

        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.OK, call.GetStatus().Code);
    }

    [Fact]
    public async Task Server_and_client_streaming()
    {
        using var serverStream = _channel.ServerStreaming(EchoMethods.ServerStream, new EchoRequest { ResponseCount = 100 });
        var count = 0;
        await foreach (var _ in serverStream.ResponseStream.ReadAllAsync())
        {
            count++;
        }

        using var clientStream = _channel.ClientStreaming(EchoMethods.ClientStream);
        for (var i = 0; i < 20; i++)
        {
            await clientStream.RequestStream.WriteAsync(new EchoRequest { Message = $"{i}" });
        }

        await clientStream.RequestStream.CompleteAsync();
        var reply = await clientStream;

        Assert.Equal(100, count);
        Assert.Equal(20, reply.Index);
    }

    [Fact]
    public async Task Deadline_is_enforced_against_a_grpc_js_handler_that_never_answers()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            _channel.UnaryAsync(EchoMethods.Unary, new EchoRequest { WaitForCancel = true }, CallOptions.WithTimeout(TimeSpan.FromMilliseconds(300))));

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
    }

    [Fact]
    public async Task Cancellation_reaches_the_grpc_js_handler()
    {
        // A server of its own, so no other test's call can be counted here.
        await using var peer = await PeerProcess.StartNodeServerAsync("server.js");
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{peer.Port}");
        using var cts = new CancellationTokenSource();
        using var call = channel.DuplexStreaming(EchoMethods.Bidi, new CallOptions(CancellationToken: cts.Token));
        await call.RequestStream.WriteAsync(new EchoRequest { Message = "first" });
        Assert.True(await call.ResponseStream.MoveNext());
        await call.RequestStream.WriteAsync(new EchoRequest { WaitForCancel = true });
        await cts.CancelAsync();

        var cancelled = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext().AsTask());
        Assert.Equal(StatusCode.Cancelled, cancelled.StatusCode);

        // grpc-js answers once it has seen the call cancelled on its side.
        var stats = await channel.UnaryAsync(EchoMethods.Stats, new StatsRequest { MinCancelledCalls = 1 }, CallOptions.WithTimeout(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, stats.CancelledCalls);
    }

    [Fact]
    public async Task Unknown_method_is_unimplemented()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            _channel.UnaryAsync(new Method<EchoRequest, EchoReply>(EchoMethods.ServiceName, "Missing", MethodType.Unary), new EchoRequest()));

        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
    }

    [Fact]
    public async Task Oversize_response_is_refused_by_our_client()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            _channel.UnaryAsync(EchoMethods.Unary, new EchoRequest { ResponseSize = 5 * 1024 * 1024 }));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Equal("still fine", (await _channel.UnaryAsync(EchoMethods.Unary, new EchoRequest { Message = "still fine" })).Message);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    public async Task Compression_in_both_directions(string encoding)
    {
        await using var peer = await PeerProcess.StartNodeServerAsync("server.js", "--compress", encoding);
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{peer.Port}", new GrpcChannelOptions { RequestCompression = encoding });
        var payload = ByteString.CopyFromUtf8(string.Concat(Enumerable.Repeat("squeeze me ", 20_000)));

        var reply = await channel.UnaryAsync(EchoMethods.Unary, new EchoRequest { Payload = payload });

        Assert.Equal(payload, reply.Payload);
    }
}
