using Cluster.Testing;
using Cluster.Testing.Echo;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using EchoGrpc = Cluster.Testing.Echo.Echo;

namespace Cluster.Tests.Interop;

/// <summary>Our client (Grpc.Net.Client with the generated Echo client) calling a real grpc-js server (node/interop/server.js).</summary>
[Trait("Category", "Integration")]
public sealed class GrpcJsServerTests : IAsyncLifetime
{
    /// <summary>The largest response our client takes (gRPC's default, set explicitly): the oversize test asks for 5 MiB.</summary>
    private const int MaxReceiveMessageSize = 4 << 20;

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    // xunit makes a class instance per test: every test has a grpc-js server of its own.
    private PeerProcess _peer = null!;
    private GrpcChannel _channel = null!;
    private EchoGrpc.EchoClient _client = null!;

    public async Task InitializeAsync()
    {
        _peer = await PeerProcess.StartNodeServerAsync("server.js");
        _channel = Channel(_peer);
        _client = new EchoGrpc.EchoClient(_channel);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _peer.DisposeAsync();
    }

    [Fact]
    public async Task Unary_with_metadata_both_ways()
    {
        var headers = new Metadata { { "x-echo", "from-dotnet" }, { "x-echo-bin", new byte[] { 9, 8, 7 } } };
        using var call = _client.UnaryAsync(new EchoRequest { Message = "hi", Payload = ByteString.CopyFromUtf8("xyz") }, headers, deadline: Deadline());

        var reply = await call;

        Assert.Equal("hi", reply.Message);
        Assert.Equal("xyz", reply.Payload.ToStringUtf8());
        var responseHeaders = await call.ResponseHeadersAsync;
        Assert.Equal("from-dotnet", responseHeaders.GetValue("x-echo"));
        Assert.Equal(new byte[] { 9, 8, 7 }, responseHeaders.GetValueBytes("x-echo-bin"));
        Assert.Equal("from-dotnet", call.GetTrailers().GetValue("x-echo-trailer"));
        Assert.Equal(new byte[] { 9, 8, 7 }, call.GetTrailers().GetValueBytes("x-echo-trailer-bin"));
    }

    [Fact]
    public async Task Error_status_message_and_trailers()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            _client.UnaryAsync(new EchoRequest { StatusCode = 9, StatusMessage = "precondition: caf\u00e9 50%" }, deadline: Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.Equal("precondition: caf\u00e9 50%", ex.Status.Detail);
        Assert.Equal("requested", ex.Trailers.GetValue("x-error-detail"));
    }

    [Fact]
    public async Task Bidi_streaming_ping_pong()
    {
        using var call = _client.Bidi(deadline: Deadline());
        for (var i = 0; i < 100; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Message = $"m{i}" });
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(i, call.ResponseStream.Current.Index);
            Assert.Equal($"m{i}", call.ResponseStream.Current.Message);
        }

        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Server_and_client_streaming()
    {
        using var serverStream = _client.ServerStream(new EchoRequest { ResponseCount = 100 }, deadline: Deadline());
        var indexes = new List<int>();
        await foreach (var reply in serverStream.ResponseStream.ReadAllAsync())
        {
            indexes.Add(reply.Index);
        }

        using var clientStream = _client.ClientStream(deadline: Deadline());
        for (var i = 0; i < 20; i++)
        {
            await clientStream.RequestStream.WriteAsync(new EchoRequest { Message = $"{i}" });
        }

        await clientStream.RequestStream.CompleteAsync();
        var summary = await clientStream;

        Assert.Equal(Enumerable.Range(0, 100), indexes);
        Assert.Equal(StatusCode.OK, serverStream.GetStatus().StatusCode);
        Assert.Equal(20, summary.Index);
        Assert.Equal(string.Join(",", Enumerable.Range(0, 20)), summary.Message);
    }

    [Fact]
    public async Task Deadline_is_enforced_against_a_grpc_js_handler_that_never_answers()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            _client.UnaryAsync(new EchoRequest { WaitForCancel = true }, deadline: DateTime.UtcNow.AddMilliseconds(300)).ResponseAsync);

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);

        // The handler never answers, so its call ends on the grpc-js side only by the deadline
        // (grpc-js's own timer or our client's reset); the server answers once it has seen that.
        var stats = await _client.StatsAsync(new StatsRequest { MinCancelledCalls = 1 }, deadline: Deadline());
        Assert.Equal(1, stats.CancelledCalls);
    }

    [Fact]
    public async Task Cancellation_reaches_the_grpc_js_handler()
    {
        using var cts = new CancellationTokenSource();
        using var call = _client.Bidi(cancellationToken: cts.Token);
        await call.RequestStream.WriteAsync(new EchoRequest { Message = "first" });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Bound));
        await call.RequestStream.WriteAsync(new EchoRequest { WaitForCancel = true });
        await cts.CancelAsync();

        var cancelled = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.Cancelled, cancelled.StatusCode);

        // grpc-js answers once it has seen the call end on its side: this call never ends but by the cancellation.
        var stats = await _client.StatsAsync(new StatsRequest { MinCancelledCalls = 1 }, deadline: Deadline());
        Assert.Equal(1, stats.CancelledCalls);
    }

    [Fact]
    public async Task Unknown_method_is_unimplemented()
    {
        var marshaller = Marshallers.Create((EchoRequest request) => request.ToByteArray(), EchoRequest.Parser.ParseFrom);
        var replyMarshaller = Marshallers.Create((EchoReply reply) => reply.ToByteArray(), EchoReply.Parser.ParseFrom);
        var missing = new Method<EchoRequest, EchoReply>(MethodType.Unary, EchoGrpc.Descriptor.FullName, "Missing", marshaller, replyMarshaller);

        using var call = _channel.CreateCallInvoker().AsyncUnaryCall(missing, null, new CallOptions(deadline: Deadline()), new EchoRequest());
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);

        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
    }

    [Fact]
    public async Task Oversize_response_is_refused_by_our_client()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            _client.UnaryAsync(new EchoRequest { ResponseSize = 5 * 1024 * 1024 }, deadline: Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Equal("still fine", (await _client.UnaryAsync(new EchoRequest { Message = "still fine" }, deadline: Deadline())).Message);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    public async Task Compressed_requests_are_read_by_grpc_js(string encoding)
    {
        // server.js is asked to compress too, but grpc-js (1.14) servers never compress a response
        // ("response compression is currently not supported"): they answer grpc-encoding identity.
        // So only the request direction (gzip and deflate, both among Grpc.Net.Client's default
        // providers) can be checked against grpc-js.
        await using var peer = await PeerProcess.StartNodeServerAsync("server.js", "--compress", encoding);
        var seen = new EncodingRecorder(new SocketsHttpHandler());
        using var channel = Channel(peer, seen);
        var payload = ByteString.CopyFromUtf8(string.Concat(Enumerable.Repeat("squeeze me ", 20_000)));

        // Grpc.Net.Client compresses a call's request with the algorithm this (internal) header names.
        var headers = new Metadata { { "grpc-internal-encoding-request", encoding } };
        var reply = await new EchoGrpc.EchoClient(channel).UnaryAsync(new EchoRequest { Payload = payload }, headers, deadline: Deadline());

        Assert.Equal(encoding, seen.RequestEncoding);
        Assert.Equal(payload, reply.Payload); // grpc-js decompressed it: the echo is the original
    }

    private static GrpcChannel Channel(PeerProcess peer, HttpMessageHandler? handler = null) =>
        GrpcChannel.ForAddress(peer.Address, new GrpcChannelOptions { MaxReceiveMessageSize = MaxReceiveMessageSize, HttpHandler = handler });

    private static DateTime Deadline() => DateTime.UtcNow.Add(Bound);

    /// <summary>The grpc-encoding our client put on the request.</summary>
    private sealed class EncodingRecorder(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        public string? RequestEncoding { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            RequestEncoding = request.Headers.TryGetValues("grpc-encoding", out var sent) ? string.Join(",", sent) : null;
            return base.SendAsync(request, cancellationToken);
        }
    }
}
