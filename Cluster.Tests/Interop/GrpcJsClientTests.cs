using System.Net;
using System.Text.Json;
using Cluster.Server.Rpc;
using Cluster.Testing;
using Cluster.Testing.Echo;
using Cluster.Tests.Grpc;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Tests.Interop;

/// <summary>A real grpc-js client (node/interop/client.js) calling our server (<see cref="GrpcHost"/>: Grpc.AspNetCore).</summary>
[Trait("Category", "Integration")]
public sealed class GrpcJsClientTests : IAsyncLifetime
{
    /// <summary>The largest request our server takes here: client.js sends 3 MiB ("large") and 5 MiB ("oversize").</summary>
    private const int MaxReceiveMessageSize = 4 << 20;

    private EchoServer _server = null!;

    public async Task InitializeAsync() => _server = await EchoServer.StartAsync(options => options with { MaxReceiveMessageSize = MaxReceiveMessageSize });

    public async Task DisposeAsync()
    {
        await _server.AssertIdleAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Unary_with_metadata_both_ways()
    {
        var result = await RunAsync(_server.Address.Port, "unary");

        Assert.Equal(0, result.GetProperty("code").GetInt32());
        Assert.Equal("hello", result.GetProperty("message").GetString());
        Assert.Equal(3, result.GetProperty("payloadLength").GetInt32());
        Assert.Equal("from-grpc-js", result.GetProperty("headerEcho").GetString());
        Assert.Equal("from-grpc-js", result.GetProperty("trailerEcho").GetString());
        Assert.Equal("0001feff", result.GetProperty("trailerEchoBin").GetString());
    }

    [Fact]
    public async Task Error_status_message_and_trailers()
    {
        var result = await RunAsync(_server.Address.Port, "unary-error");

        Assert.Equal(5, result.GetProperty("code").GetInt32());
        Assert.Equal("no such key: caf\u00e9 100%", result.GetProperty("details").GetString());
        Assert.Equal("requested", result.GetProperty("errorDetail").GetString());
    }

    [Fact]
    public async Task Bidi_streaming_ping_pong()
    {
        var result = await RunAsync(_server.Address.Port, "bidi");

        Assert.Equal(0, result.GetProperty("code").GetInt32());
        Assert.Equal(100, result.GetProperty("count").GetInt32());
        Assert.True(result.GetProperty("inOrder").GetBoolean());
    }

    [Fact]
    public async Task Server_and_client_streaming()
    {
        var server = await RunAsync(_server.Address.Port, "server-stream");
        var client = await RunAsync(_server.Address.Port, "client-stream");

        Assert.Equal(0, server.GetProperty("code").GetInt32());
        Assert.Equal(50, server.GetProperty("count").GetInt32());
        Assert.Equal(0, client.GetProperty("code").GetInt32());
        Assert.Equal(20, client.GetProperty("index").GetInt32());
        Assert.Equal(string.Join(",", Enumerable.Range(0, 20)), client.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Large_message_and_oversize_message()
    {
        var large = await RunAsync(_server.Address.Port, "large");
        var oversize = await RunAsync(_server.Address.Port, "oversize");

        Assert.Equal(0, large.GetProperty("code").GetInt32());
        Assert.Equal(3 * 1024 * 1024, large.GetProperty("payloadLength").GetInt32());
        Assert.Equal(8, oversize.GetProperty("code").GetInt32()); // RESOURCE_EXHAUSTED: over GrpcHostOptions.MaxReceiveMessageSize
    }

    [Fact]
    public async Task Deadline_is_exceeded_and_the_handler_is_cancelled()
    {
        var cancelled = Signal.Create<ServerCallContext>();
        _server.Echo.Cancelled += ctx => cancelled.TrySetResult(ctx);

        var result = await RunAsync(_server.Address.Port, "deadline");

        Assert.Equal(4, result.GetProperty("code").GetInt32());
        await cancelled.Within();
    }

    [Fact]
    public async Task Client_cancellation_reaches_the_handler()
    {
        var cancelled = Signal.Create<ServerCallContext>();
        _server.Echo.Cancelled += ctx => cancelled.TrySetResult(ctx);

        var result = await RunAsync(_server.Address.Port, "cancel");

        Assert.Equal(1, result.GetProperty("code").GetInt32());
        await cancelled.Within();
    }

    [Fact]
    public async Task Unknown_method_is_unimplemented()
    {
        var result = await RunAsync(_server.Address.Port, "unimplemented");

        Assert.Equal(12, result.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Gzip_in_both_directions()
    {
        // GrpcHostOptions has no response compression setting: Grpc.AspNetCore's own option is set
        // through the services GrpcHost lets its caller add (they are configured after its AddGrpc).
        var echo = new EchoService();
        var encodings = new EncodingRecorder();
        var gzipHost = await GrpcHost.StartAsync(
            new GrpcHostOptions { Endpoints = [new IPEndPoint(IPAddress.Loopback, 0)] },
            services =>
            {
                services.AddSingleton(echo);
                services.AddSingleton(encodings);
                services.Configure<GrpcServiceOptions>(grpc =>
                {
                    grpc.ResponseCompressionAlgorithm = "gzip";
                    grpc.Interceptors.Add<EncodingRecorder>();
                });
            },
            endpoints => endpoints.MapGrpcService<EchoService>());
        await using (gzipHost)
        {
            var result = await RunAsync(gzipHost.Addresses[0].Port, "gzip");

            Assert.Equal(0, result.GetProperty("code").GetInt32());
            Assert.Equal("zipped", result.GetProperty("message").GetString());
            Assert.Equal(100 * 1024, result.GetProperty("payloadLength").GetInt32());
            var (request, response) = await encodings.Seen.Within();
            Assert.Equal("gzip", request);
            Assert.Equal("gzip", response);
            await echo.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private static async Task<JsonElement> RunAsync(int port, string scenario)
    {
        var (exitCode, stdout, stderr) = await PeerProcess.RunNodeAsync("client.js", TimeSpan.FromSeconds(60), $"127.0.0.1:{port}", scenario);
        Assert.True(exitCode == 0, $"client.js {scenario} exited {exitCode}: {stderr}");
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }

    /// <summary>The grpc-encoding of the first unary call's request (as sent by the client) and of its response (as chosen by the server).</summary>
    private sealed class EncodingRecorder : Interceptor
    {
        public TaskCompletionSource<(string Request, string Response)> Seen { get; } = Signal.Create<(string, string)>();

        public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        {
            var http = context.GetHttpContext();
            Seen.TrySetResult((http.Request.Headers["grpc-encoding"].ToString(), http.Response.Headers["grpc-encoding"].ToString()));
            return continuation(request, context);
        }
    }
}
