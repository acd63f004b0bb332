using System.Text.Json;
using Cluster.Grpc.Server;
using Cluster.Testing;
using Cluster.Tests.Grpc;

namespace Cluster.Tests.Interop;

/// <summary>A real grpc-js client (node/interop/client.js) calling our server.</summary>
public sealed class GrpcJsClientTests : IAsyncLifetime
{
    private EchoServer _server = null!;

    public async Task InitializeAsync() => _server = await EchoServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.AssertIdleAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Unary_with_metadata_both_ways()
    {
        var result = await RunAsync(_server, "unary");

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
        var result = await RunAsync(_server, "unary-error");

        Assert.Equal(5, result.GetProperty("code").GetInt32());
        Assert.Equal("no such key: caf\u00e9 100%", result.GetProperty("details").GetString());
        Assert.Equal("requested", result.GetProperty("errorDetail").GetString());
    }

    [Fact]
    public async Task Bidi_streaming_ping_pong()
    {
        var result = await RunAsync(_server, "bidi");

        Assert.Equal(0, result.GetProperty("code").GetInt32());
        Assert.Equal(100, result.GetProperty("count").GetInt32());
        Assert.True(result.GetProperty("inOrder").GetBoolean());
    }

    [Fact]
    public async Task Server_and_client_streaming()
    {
        var server = await RunAsync(_server, "server-stream");
        var client = await RunAsync(_server, "client-stream");

        Assert.Equal(0, server.GetProperty("code").GetInt32());
        Assert.Equal(50, server.GetProperty("count").GetInt32());
        Assert.Equal(0, client.GetProperty("code").GetInt32());
        Assert.Equal(20, client.GetProperty("index").GetInt32());
        Assert.Equal(string.Join(",", Enumerable.Range(0, 20)), client.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Large_message_and_oversize_message()
    {
        var large = await RunAsync(_server, "large");
        var oversize = await RunAsync(_server, "oversize");

        Assert.Equal(3 * 1024 * 1024, large.GetProperty("payloadLength").GetInt32());
        Assert.Equal(8, oversize.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Deadline_is_exceeded_and_the_handler_is_cancelled()
    {
        var cancelled = Signal.Create<ServerCallContext>();
        _server.Echo.Cancelled += ctx => cancelled.TrySetResult(ctx);

        var result = await RunAsync(_server, "deadline");

        Assert.Equal(4, result.GetProperty("code").GetInt32());
        await cancelled.Within();
    }

    [Fact]
    public async Task Client_cancellation_reaches_the_handler()
    {
        var cancelled = Signal.Create<ServerCallContext>();
        _server.Echo.Cancelled += ctx => cancelled.TrySetResult(ctx);

        var result = await RunAsync(_server, "cancel");

        Assert.Equal(1, result.GetProperty("code").GetInt32());
        await cancelled.Within();
    }

    [Fact]
    public async Task Unknown_method_is_unimplemented()
    {
        var result = await RunAsync(_server, "unimplemented");

        Assert.Equal(12, result.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Gzip_in_both_directions()
    {
        await using var gzipServer = await EchoServer.StartAsync(new GrpcServerOptions { ResponseCompression = "gzip" });

        var result = await RunAsync(gzipServer, "gzip");

        Assert.Equal(0, result.GetProperty("code").GetInt32());
        Assert.Equal(100 * 1024, result.GetProperty("payloadLength").GetInt32());
    }

    private static async Task<JsonElement> RunAsync(EchoServer server, string scenario)
    {
        var (exitCode, stdout, stderr) = await PeerProcess.RunNodeAsync("client.js", TimeSpan.FromSeconds(60), $"127.0.0.1:{server.Address.Port}", scenario);
        Assert.True(exitCode == 0, $"client.js {scenario} exited {exitCode}: {stderr}");
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }
}
