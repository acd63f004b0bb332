using Cluster.Testing.Echo;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using EchoGrpc = Cluster.Testing.Echo.Echo;

namespace Cluster.Tests.Grpc;

/// <summary>
/// Grpc.Net.Client and the generated echo client against a server (bare Kestrel) that answers
/// badly: each bad answer becomes a clear status within a bounded time, and the channel stays
/// usable for the next call.
/// </summary>
public sealed class MalformedResponseTests : IAsyncLifetime
{
    private const string CaseHeader = "x-case";
    private static readonly byte[] Reply = new EchoReply { Message = "ok" }.ToByteArray();
    private RawServer _server = null!;
    private GrpcChannel _channel = null!;
    private EchoGrpc.EchoClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await RawServer.StartAsync(RespondAsync);
        _channel = GrpcChannel.ForAddress(_server.Address);
        _client = EchoServer.Client(_channel);
    }

    public async Task DisposeAsync()
    {
        // The channel survives every bad answer.
        Assert.Equal("ok", (await Call("Good")).Message);
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    // Where Grpc.Net.Client's status differs from our former client's, the comment says what it does.
    [Theory]
    [InlineData("Truncated", StatusCode.Internal, "Unexpected end of content while reading the message content.")]
    [InlineData("TruncatedHeader", StatusCode.Internal, "Unexpected end of content while reading the message header.")]
    [InlineData("BadFlag", StatusCode.Internal, "Unexpected compressed flag value in message header.")]
    [InlineData("Oversize", StatusCode.ResourceExhausted, "Received message exceeds the maximum configured message size.")]
    // InvalidProtocolBufferException is an IOException, which the client maps to UNAVAILABLE (was INTERNAL).
    [InlineData("Garbage", StatusCode.Unavailable, "InvalidProtocolBufferException")]
    // A missing or unparsable grpc-status is CANCELLED (was INTERNAL and UNKNOWN).
    [InlineData("NoStatus", StatusCode.Cancelled, "No grpc-status found on response.")]
    [InlineData("BadStatus", StatusCode.Cancelled, "Unexpected grpc-status value: zero")]
    [InlineData("Http503", StatusCode.Unavailable, "Bad gRPC response. HTTP status code: 503")]
    [InlineData("Http404", StatusCode.Unimplemented, "Bad gRPC response. HTTP status code: 404")]
    [InlineData("Http401", StatusCode.Unauthenticated, "Bad gRPC response. HTTP status code: 401")]
    // A 200 that is not gRPC (a proxy's page) is CANCELLED (was UNKNOWN).
    [InlineData("Html", StatusCode.Cancelled, "Bad gRPC response. Invalid content-type value: text/html")]
    [InlineData("TwoMessages", StatusCode.Internal, "Unexpected data after finished reading message.")]
    [InlineData("NoMessage", StatusCode.Internal, "Failed to deserialize response message.")]
    // No grpc-encoding is taken as identity, so the complaint is about identity.
    [InlineData("CompressedNoEncoding", StatusCode.Internal, "Request sent 'identity' grpc-encoding value with compressed message.")]
    // An encoding the client does not have is UNIMPLEMENTED, as the spec asks of a server (was INTERNAL).
    [InlineData("UnknownEncoding", StatusCode.Unimplemented, "Unsupported grpc-encoding value 'br'.")]
    [InlineData("ResetInternal", StatusCode.Internal, "HTTP/2 error code 'INTERNAL_ERROR' (0x2)")]
    [InlineData("ResetRefused", StatusCode.Unavailable, "HTTP/2 error code 'REFUSED_STREAM' (0x7)")]
    [InlineData("PercentMessage", StatusCode.Aborted, "100% done: caf\u00e9")]
    public async Task Bad_answers_become_statuses(string name, StatusCode expected, string detail)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Call(name));

        Assert.Equal(expected, ex.StatusCode);
        Assert.Contains(detail, ex.Status.Detail, StringComparison.Ordinal);
    }

    // The deadline bounds the call: a client that hung on a bad answer would fail with DEADLINE_EXCEEDED.
    private async Task<EchoReply> Call(string name) =>
        await _client.UnaryAsync(new EchoRequest(), new Metadata { { CaseHeader, name } }, DateTime.UtcNow.AddSeconds(30));

    private static async Task RespondAsync(HttpContext context)
    {
        await context.Request.Body.CopyToAsync(Stream.Null);
        var response = context.Response;
        response.ContentType = "application/grpc";
        var status = "0";
        byte[] body = [];
        switch (context.Request.Headers[CaseHeader].ToString())
        {
            case "Good":
                body = RawHttp2Client.Frame(Reply);
                break;
            case "Truncated":
                body = RawHttp2Client.Frame(Reply, declaredLength: Reply.Length + 5);
                break;
            case "TruncatedHeader":
                body = [0, 0];
                break;
            case "BadFlag":
                body = RawHttp2Client.Frame(Reply, flag: 7);
                break;
            case "Oversize":
                body = RawHttp2Client.Frame(Reply, declaredLength: 64 * 1024 * 1024);
                break;
            case "Garbage":
                body = RawHttp2Client.Frame([0xFF, 0xFF, 0xFF, 0xFF, 0x0F]);
                break;
            case "NoStatus":
                await response.Body.WriteAsync(RawHttp2Client.Frame(Reply));
                return;
            case "BadStatus":
                status = "zero";
                break;
            case "Http503":
                response.StatusCode = 503;
                return;
            case "Http404":
                response.StatusCode = 404;
                return;
            case "Http401":
                response.StatusCode = 401;
                return;
            case "Html":
                response.ContentType = "text/html";
                await response.WriteAsync("<html>proxy error</html>");
                return;
            case "TwoMessages":
                body = [.. RawHttp2Client.Frame(Reply), .. RawHttp2Client.Frame(Reply)];
                break;
            case "NoMessage":
                break;
            case "CompressedNoEncoding":
                body = RawHttp2Client.Frame(Reply, flag: 1);
                break;
            case "UnknownEncoding":
                response.Headers["grpc-encoding"] = "br";
                body = RawHttp2Client.Frame(Reply, flag: 1);
                break;
            case "ResetInternal":
                await response.Body.WriteAsync(RawHttp2Client.Frame(Reply).AsMemory(0, 4));
                await response.Body.FlushAsync();
                context.Features.Get<IHttpResetFeature>()!.Reset(0x2);
                return;
            case "ResetRefused":
                context.Features.Get<IHttpResetFeature>()!.Reset(0x7);
                return;
            case "PercentMessage":
                status = "10";
                response.AppendTrailer("grpc-message", "100%25 done: caf%C3%A9");
                break;
        }

        await response.Body.WriteAsync(body);
        response.AppendTrailer("grpc-status", status);
    }
}
