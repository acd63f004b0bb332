using System.IO.Compression;
using System.Net;
using Cluster.Testing.Echo;
using Google.Protobuf;
using Grpc.Core;

namespace Cluster.Tests.Grpc;

/// <summary>
/// Our gRPC host (Grpc.AspNetCore on Kestrel with our settings) and the echo service against bytes
/// no good client sends: each gets a clear status, the server keeps serving, and no call is left behind.
/// </summary>
public sealed class MalformedRequestTests : IAsyncLifetime
{
    private const string UnaryPath = "/cluster.testing.Echo/Unary";
    private const string BidiPath = "/cluster.testing.Echo/Bidi";
    private const int ReceiveLimit = 64 * 1024;
    private static readonly byte[] Ping = new EchoRequest { Message = "ping" }.ToByteArray();
    private static readonly Dictionary<string, string> Gzip = new() { ["grpc-encoding"] = "gzip" };
    private readonly RawHttp2Client _client = new();
    private EchoServer _server = null!;

    public async Task InitializeAsync() => _server = await EchoServer.StartAsync(o => o with { MaxReceiveMessageSize = ReceiveLimit });

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
        Assert.Contains("Content-Type", response.GrpcMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Content_type_with_subtype_is_accepted()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame(Ping), "application/grpc+proto");

        Assert.Equal(0, response.GrpcStatus);
    }

    [Fact]
    public async Task Get_is_404()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, [], method: HttpMethod.Get);

        // Grpc.AspNetCore maps its methods for POST only; routing then answers GET 404 (not 405), without a grpc-status.
        Assert.Equal(404, response.HttpStatus);
        Assert.Null(response.GrpcStatus);
    }

    [Fact]
    public async Task Truncated_message_is_internal()
    {
        var frame = RawHttp2Client.Frame(Ping, declaredLength: Ping.Length + 10);

        var response = await _client.SendAsync(_server.Address, UnaryPath, frame);

        Assert.Equal(200, response.HttpStatus);
        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Equal("Incomplete message.", response.GrpcMessage);
    }

    [Fact]
    public async Task Truncated_header_is_internal()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, [0, 0, 0]);

        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Equal("Incomplete message.", response.GrpcMessage);
    }

    [Fact]
    public async Task Invalid_compressed_flag_is_unknown()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame(Ping, flag: 2));

        // Grpc.AspNetCore's InvalidDataException escapes its reader: UNKNOWN "Exception was thrown by handler." (was INTERNAL).
        Assert.Equal(200, response.HttpStatus);
        Assert.Equal((int)StatusCode.Unknown, response.GrpcStatus);
        Assert.Equal("Exception was thrown by handler.", response.GrpcMessage);
    }

    [Fact]
    public async Task Declared_length_over_the_limit_is_resource_exhausted_before_the_body_arrives()
    {
        // Only the header is sent: the server must not wait for 2 GiB.
        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame([], declaredLength: int.MaxValue));

        Assert.Equal((int)StatusCode.ResourceExhausted, response.GrpcStatus);
        Assert.Equal("Received message exceeds the maximum configured message size.", response.GrpcMessage);
    }

    [Fact]
    public async Task Garbage_protobuf_is_unknown()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame([0xFF, 0xFF, 0xFF, 0xFF, 0x0F]));

        // The deserializer's InvalidProtocolBufferException escapes: UNKNOWN "Exception was thrown by handler." (was INTERNAL).
        Assert.Equal((int)StatusCode.Unknown, response.GrpcStatus);
        Assert.Equal("Exception was thrown by handler.", response.GrpcMessage);
    }

    [Fact]
    public async Task Compressed_flag_without_an_encoding_is_internal()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame(Ping, flag: 1));

        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Equal("Request did not include grpc-encoding value with compressed message.", response.GrpcMessage);
    }

    [Fact]
    public async Task Unsupported_encoding_is_unimplemented_and_lists_what_is_accepted()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame(Ping, flag: 1), headers: new Dictionary<string, string> { ["grpc-encoding"] = "br" });

        Assert.Equal((int)StatusCode.Unimplemented, response.GrpcStatus);
        Assert.Contains("Unsupported grpc-encoding value 'br'", response.GrpcMessage, StringComparison.Ordinal);
        Assert.Contains("gzip", response.Headers["grpc-accept-encoding"], StringComparison.Ordinal);
        Assert.DoesNotContain("br", response.Headers["grpc-accept-encoding"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Corrupt_gzip_is_unknown()
    {
        // A whole gzip header, then a deflate block of the reserved type 3: the inflater fails.
        byte[] corrupt = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 0x07, 1, 2, 3];

        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame(corrupt, flag: 1), headers: Gzip);

        // The decompressor's InvalidDataException escapes: UNKNOWN "Exception was thrown by handler." (was INTERNAL).
        Assert.Equal((int)StatusCode.Unknown, response.GrpcStatus);
        Assert.Equal("Exception was thrown by handler.", response.GrpcMessage);
    }

    [Fact]
    public async Task Truncated_gzip_is_read_as_an_empty_message()
    {
        // Half a gzip header. .NET's GZipStream ends quietly on truncated input, so Grpc.AspNetCore
        // hands the handler an empty (valid, all-default) request: OK, where our layer said INTERNAL.
        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame([0x1f, 0x8b, 8, 0, 1, 2, 3], flag: 1), headers: Gzip);

        Assert.Equal(0, response.GrpcStatus);
        Assert.Equal(new EchoReply(), EchoReply.Parser.ParseFrom(response.Body.AsSpan(5)));
    }

    [Fact]
    public async Task Gzip_message_that_inflates_past_the_limit_is_resource_exhausted()
    {
        // Under the limit on the wire, 16 times over it once inflated: the limit holds for what the handler would get.
        var request = new EchoRequest { Payload = ByteString.CopyFrom(new byte[16 * ReceiveLimit]) }.ToByteArray();
        var compressed = Compress(request);
        Assert.True(compressed.Length < ReceiveLimit);

        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame(compressed, flag: 1), headers: Gzip);

        Assert.Equal((int)StatusCode.ResourceExhausted, response.GrpcStatus);
        Assert.Equal("Received message exceeds the maximum configured message size.", response.GrpcMessage);
    }

    [Fact]
    public async Task Gzip_message_is_accepted_when_declared()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame(Compress(Ping), flag: 1), headers: Gzip);

        Assert.Equal(0, response.GrpcStatus);
        Assert.Equal("ping", EchoReply.Parser.ParseFrom(response.Body.AsSpan(5)).Message);
    }

    [Fact]
    public async Task Unary_without_a_message_is_internal()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, []);

        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Equal("Incomplete message.", response.GrpcMessage);
    }

    [Fact]
    public async Task Unary_with_two_messages_is_internal()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, [.. RawHttp2Client.Frame(Ping), .. RawHttp2Client.Frame(Ping)]);

        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Equal("Additional data after the message received.", response.GrpcMessage);
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

        // Grpc.AspNetCore alone would run the call with no deadline; our host refuses it (GrpcTimeoutGuard).
        Assert.Equal(200, response.HttpStatus);
        Assert.Equal((int)StatusCode.Internal, response.GrpcStatus);
        Assert.Equal("malformed grpc-timeout", response.GrpcMessage);
        await _server.AssertIdleAsync();
    }

    [Theory]
    [InlineData("1n")]
    [InlineData("99999999H")]
    [InlineData("250m")]
    public async Task Well_formed_timeouts_pass(string timeout)
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame(Ping), headers: new Dictionary<string, string> { ["grpc-timeout"] = timeout });

        Assert.NotEqual("malformed grpc-timeout", response.GrpcMessage);
    }

    [Fact]
    public async Task Streams_reset_mid_message_leave_nothing_behind_and_other_streams_carry_on()
    {
        // A long-lived stream must survive its neighbours' resets.
        using var channel = _server.Channel();
        var client = EchoServer.Client(channel);
        using var survivor = client.Bidi();
        await survivor.RequestStream.WriteAsync(new EchoRequest { Message = "before" });
        Assert.True(await survivor.ResponseStream.MoveNext());

        // Bidi: one whole message (answered, so the handler runs), then half of the next, then the reset.
        // Unary: three bytes of a header, then the reset (the handler never starts).
        var first = RawHttp2Client.Frame(new EchoRequest { Message = "first" }.ToByteArray());
        var half = RawHttp2Client.Frame(new EchoRequest { Payload = ByteString.CopyFrom(new byte[1000]) }.ToByteArray())[..500];
        for (var i = 0; i < 25; i++)
        {
            await _client.SendPartialThenResetAsync(_server.Address, BidiPath, [.. first, .. half], afterFirstReply: true);
            await _client.SendPartialThenResetAsync(_server.Address, UnaryPath, half[..3]);
        }

        await survivor.RequestStream.WriteAsync(new EchoRequest { Message = "after" });
        Assert.True(await survivor.ResponseStream.MoveNext());
        Assert.Equal("after", survivor.ResponseStream.Current.Message);
        await survivor.RequestStream.CompleteAsync();
        Assert.False(await survivor.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.OK, survivor.GetStatus().StatusCode);

        await _server.AssertIdleAsync();
        var stats = await client.StatsAsync(new StatsRequest());
        Assert.Equal(0, stats.ActiveCalls);
    }

    [Fact]
    public async Task Http1_requests_are_refused_before_reaching_grpc()
    {
        var response = await _client.SendAsync(_server.Address, UnaryPath, RawHttp2Client.Frame(Ping), version: HttpVersion.Version11);

        // Our host listens HTTP/2 only, so Kestrel answers the HTTP/1.1 request line itself (400, connection
        // closed); Grpc.AspNetCore's own 426 "upgrade" answer is only reached on an endpoint that allows HTTP/1.
        Assert.Equal(400, response.HttpStatus);
        Assert.Null(response.GrpcStatus);
        Assert.Contains("HTTP/2 only endpoint", System.Text.Encoding.UTF8.GetString(response.Body), StringComparison.Ordinal);
    }

    private static byte[] Compress(byte[] message)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(message);
        }

        return compressed.ToArray();
    }
}
