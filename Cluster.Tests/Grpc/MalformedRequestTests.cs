using System.IO.Compression;
using System.Net;
using Cluster.Grpc;
using Cluster.Grpc.Server;
using Cluster.Testing.Echo;
using Google.Protobuf;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Cluster.Tests.Grpc;

/// <summary>
/// The server against bytes no good client sends: each gets the right status, the server keeps
/// serving, and no call is left behind.
/// </summary>
public sealed class MalformedRequestTests : IAsyncLifetime
{
    private const string UnaryPath = "/cluster.testing.Echo/Unary";
    private const string BidiPath = "/cluster.testing.Echo/Bidi";
    private static readonly byte[] Ping = new EchoRequest { Message = "ping" }.ToByteArray();
    private readonly RawHttp2Client _client = new();
    private EchoServer _server = null!;

    public async Task InitializeAsync() => _server = await EchoServer.StartAsync(new GrpcServerOptions { MaxReceiveMessageSize = 64 * 1024 });

    public async Task DisposeAsync()
    {
        // Whatever a test threw at it, the server still answers and has nothing running.
        var after = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame(Ping));
        Assert.Equal(0, after.GrpcStatus);
        await _server.AssertIdleAsync();
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Well_formed_unary_has_one_frame_and_status_in_trailers()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame(Ping));

        Assert.Equal(200, response.HttpStatus);
        Assert.StartsWith("application/grpc", response.Headers["content-type"], StringComparison.Ordinal);
        Assert.Equal("0", response.Trailers["grpc-status"]);
        Assert.Equal(0, response.Body[0]);
        Assert.Equal("ping", EchoReply.Parser.ParseFrom(response.Body.AsSpan(5)).Message);
    }

    [Fact]
    public async Task Errors_before_any_message_are_trailers_only()
    {
        var request = new EchoRequest { StatusCode = (int)StatusCode.NotFound, StatusMessage = "gone 100%" }.ToByteArray();

        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame(request));

        Assert.Equal(200, response.HttpStatus);
        Assert.Equal("5", response.Headers["grpc-status"]);
        Assert.Equal("gone 100%25", response.Headers["grpc-message"]);
        Assert.Empty(response.Body);
        Assert.Empty(response.Trailers);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/grpc-web")]
    [InlineData("application/json")]
    [InlineData(null)]
    public async Task Wrong_content_type_is_415(string? contentType)
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame(Ping), contentType);

        Assert.Equal(415, response.HttpStatus);
        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
    }

    [Fact]
    public async Task Content_type_with_subtype_is_accepted()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame(Ping), "application/grpc+proto");

        Assert.Equal(0, response.GrpcStatus);
    }

    [Fact]
    public async Task Get_is_405()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, [], method: HttpMethod.Get);

        Assert.Equal(405, response.HttpStatus);
    }

    [Fact]
    public async Task Truncated_message_is_internal()
    {
        var frame = RawHttp2Client.Frame(Ping, declaredLength: Ping.Length + 10);

        var response = await _client.SendAsync(_server.Address, UnaryPath, frame);

        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("Incomplete message", response.GrpcMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Truncated_header_is_internal()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, [0, 0, 0]);

        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
    }

    [Fact]
    public async Task Invalid_compressed_flag_is_internal()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame(Ping, flag: 2));

        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("compressed flag", response.GrpcMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Declared_length_over_the_limit_is_resource_exhausted_before_the_body_arrives()
    {
        // Only the header is sent: the server must not wait for 4 GiB.
        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame([], declaredLength: int.MaxValue));

        Assert.Equal((int)StatusCode.ResourceExhausted, response.GrpcStatus);
    }

    [Fact]
    public async Task Garbage_protobuf_is_internal()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame([0xFF, 0xFF, 0xFF, 0xFF, 0x0F]));

        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("deserialize request", response.GrpcMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compressed_flag_without_an_encoding_is_internal()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame(Ping, flag: 1));

        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
    }

    [Fact]
    public async Task Unsupported_encoding_is_unimplemented_and_lists_what_is_accepted()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame(Ping, flag: 1), headers: new Dictionary<string, string> { ["grpc-encoding"] = "br" });

        Assert.Equal((int)StatusCode.Unimplemented, response.GrpcStatus);
        Assert.Contains("gzip", response.Headers["grpc-accept-encoding"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Corrupt_gzip_is_internal()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame([0x1f, 0x8b, 8, 0, 1, 2, 3], flag: 1), headers: new Dictionary<string, string> { ["grpc-encoding"] = "gzip" });

        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("decompress", response.GrpcMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gzip_message_is_accepted_when_declared()
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Ping);
        }

        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame(compressed.ToArray(), flag: 1), headers: new Dictionary<string, string> { ["grpc-encoding"] = "gzip" });

        Assert.Equal(0, response.GrpcStatus);
    }

    [Fact]
    public async Task Unary_without_a_message_is_internal()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, []);

        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("without a message", response.GrpcMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unary_with_two_messages_is_internal()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, [.. RawHttp2Client.Frame(Ping), .. RawHttp2Client.Frame(Ping)]);

        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("more than one message", response.GrpcMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("123456789S")]
    [InlineData("10x")]
    [InlineData("S")]
    [InlineData("-1S")]
    public async Task Malformed_timeout_is_internal(string timeout)
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame(Ping), headers: new Dictionary<string, string> { ["grpc-timeout"] = timeout });

        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Contains("grpc-timeout", response.GrpcMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Streams_reset_mid_message_leave_nothing_behind_and_other_streams_carry_on()
    {
        // A long-lived stream on the same connection must survive its neighbours' resets.
        using var channel = _server.Channel();
        using var survivor = channel.DuplexStreaming(EchoMethods.Bidi);
        await survivor.RequestStream.WriteAsync(new EchoRequest { Message = "before" });
        Assert.True(await survivor.ResponseStream.MoveNext());

        var half = RawHttp2Client.Frame(new EchoRequest { Payload = ByteString.CopyFrom(new byte[1000]) }.ToByteArray())[..500];
        for (var i = 0; i < 25; i++)
        {
            await _client.SendPartialThenResetAsync(_server.Address, BidiPath, half);
            await _client.SendPartialThenResetAsync(_server.Address, UnaryPath, half[..3]);
        }

        await survivor.RequestStream.WriteAsync(new EchoRequest { Message = "after" });
        Assert.True(await survivor.ResponseStream.MoveNext());
        Assert.Equal("after", survivor.ResponseStream.Current.Message);
        await survivor.RequestStream.CompleteAsync();
        Assert.False(await survivor.ResponseStream.MoveNext());

        await _server.AssertIdleAsync();
        var stats = await channel.UnaryAsync(EchoMethods.Stats, new StatsRequest());
        Assert.Equal(0, stats.ActiveCalls);
    }

    [Fact]
    public async Task Http1_requests_are_told_to_upgrade()
    {
        var dispatcher = new GrpcDispatcher(new GrpcServiceRegistry().Add(new EchoService()));
        await using var http1 = await RawServer.StartAsync(dispatcher.HandleAsync, HttpProtocols.Http1);

        var response = await _client.SendAsync(http1.Address, UnaryPath, RawHttp2Client.Frame(Ping), version: HttpVersion.Version11);

        Assert.Equal(426, response.HttpStatus);
        Assert.Contains("HTTP/2", System.Text.Encoding.UTF8.GetString(response.Body), StringComparison.Ordinal);
        Assert.Equal(0, dispatcher.TotalCalls);
    }
}
