using System.Globalization;
using Cluster.Testing.Echo;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using EchoGrpc = Cluster.Testing.Echo.Echo;

namespace Cluster.Tests.Grpc;

/// <summary>
/// Grpc.Net.Client against our gRPC host (Grpc.AspNetCore with the agent's Kestrel settings) over
/// real loopback sockets: the four call shapes, metadata both ways, statuses, large messages and
/// many calls sharing one connection.
/// </summary>
public sealed class GrpcCallTests : IAsyncLifetime
{
    private EchoServer _server = null!;
    private GrpcChannel _channel = null!;
    private EchoGrpc.EchoClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await EchoServer.StartAsync();
        _channel = _server.Channel();
        _client = EchoServer.Client(_channel);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Unary_returns_the_response_with_headers_trailers_and_ok_status()
    {
        var headers = new Metadata { { "x-echo", "hello" }, { "x-echo-bin", new byte[] { 0, 1, 2, 255 } } };
        using var call = _client.UnaryAsync(new EchoRequest { Message = "ping", Payload = ByteString.CopyFromUtf8("abc") }, headers);

        var reply = await call;

        Assert.Equal("ping", reply.Message);
        Assert.Equal("abc", reply.Payload.ToStringUtf8());
        var responseHeaders = await call.ResponseHeadersAsync;
        Assert.Equal("hello", responseHeaders.GetValue("x-echo"));
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, responseHeaders.GetValueBytes("x-echo-bin"));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Equal("hello", call.GetTrailers().GetValue("x-echo-trailer"));
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, call.GetTrailers().GetValueBytes("x-echo-trailer-bin"));
    }

    [Theory]
    [InlineData(StatusCode.NotFound, "no such key")]
    [InlineData(StatusCode.FailedPrecondition, "percent % and ünïcödé and\nnewline")]
    [InlineData(StatusCode.PermissionDenied, "")]
    public async Task Handler_errors_arrive_with_code_detail_and_trailers(StatusCode code, string detail)
    {
        using var call = _client.UnaryAsync(new EchoRequest { StatusCode = (int)code, StatusMessage = detail });

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);

        Assert.Equal(code, ex.StatusCode);
        Assert.Equal(detail, ex.Status.Detail);
        Assert.Equal("requested", ex.Trailers.GetValue("x-error-detail"));
    }

    [Fact]
    public async Task Server_streaming_delivers_every_message_in_order_then_the_status()
    {
        using var call = _client.ServerStream(new EchoRequest { Message = "m", ResponseCount = 250 });
        var indexes = new List<int>();
        await foreach (var reply in call.ResponseStream.ReadAllAsync())
        {
            indexes.Add(reply.Index);
        }

        Assert.Equal(Enumerable.Range(0, 250), indexes);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);

        using var failing = _client.ServerStream(new EchoRequest { ResponseCount = 3, StatusCode = (int)StatusCode.Aborted, StatusMessage = "stop" });
        var received = 0;
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in failing.ResponseStream.ReadAllAsync())
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
        using var call = _client.ClientStream();
        for (var i = 0; i < 100; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Message = i.ToString(CultureInfo.InvariantCulture) });
        }

        await call.RequestStream.CompleteAsync();
        var reply = await call;

        Assert.Equal(100, reply.Index);
        Assert.Equal(string.Join(",", Enumerable.Range(0, 100)), reply.Message);
    }

    [Fact]
    public async Task Duplex_streaming_interleaves_and_an_error_ends_both_directions()
    {
        using var call = _client.Bidi();
        for (var i = 0; i < 50; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Message = $"m{i}" });
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal($"m{i}", call.ResponseStream.Current.Message);
            Assert.Equal(i, call.ResponseStream.Current.Index);
        }

        await call.RequestStream.WriteAsync(new EchoRequest { StatusCode = (int)StatusCode.InvalidArgument, StatusMessage = "bad request" });
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        await _server.AssertIdleAsync();
    }

    [Fact]
    public async Task Unknown_method_and_unknown_service_are_unimplemented()
    {
        var invoker = _channel.CreateCallInvoker();
        var ex = await Assert.ThrowsAsync<RpcException>(async () => await invoker.AsyncUnaryCall(EchoWire.Method("cluster.testing.Echo", "Missing", MethodType.Unary), null, default, new EchoRequest()));
        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);

        using var duplex = invoker.AsyncDuplexStreamingCall(EchoWire.Method("nope.Service", "Unary", MethodType.DuplexStreaming), null, default);
        var streamEx = await Assert.ThrowsAsync<RpcException>(() => duplex.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.Unimplemented, streamEx.StatusCode);
    }

    [Fact]
    public async Task Large_messages_cross_many_http2_frames()
    {
        var payload = new byte[3 * 1024 * 1024];
        new Random(42).NextBytes(payload);

        var reply = await _client.UnaryAsync(new EchoRequest { Payload = ByteString.CopyFrom(payload) });

        Assert.Equal(payload, reply.Payload.ToByteArray());
    }

    [Fact]
    public async Task Hundreds_of_concurrent_calls_share_the_channel()
    {
        // More than Kestrel's default of 100 streams per connection, within our host's limit.
        var calls = Enumerable.Range(0, 300)
            .Select(i => _client.UnaryAsync(new EchoRequest { Message = $"c{i}" }).ResponseAsync)
            .ToArray();

        var replies = await Task.WhenAll(calls);

        Assert.Equal(Enumerable.Range(0, 300).Select(i => $"c{i}"), replies.Select(r => r.Message));
        await _server.AssertIdleAsync();
    }
}

/// <summary>Method descriptors the generated stubs do not have (unknown methods, other shapes), with protobuf marshallers.</summary>
public static class EchoWire
{
    public static Method<EchoRequest, EchoReply> Method(string service, string name, MethodType type) =>
        new(type, service, name, Marshallers.Create(m => m.ToByteArray(), EchoRequest.Parser.ParseFrom), Marshallers.Create(m => m.ToByteArray(), EchoReply.Parser.ParseFrom));
}
