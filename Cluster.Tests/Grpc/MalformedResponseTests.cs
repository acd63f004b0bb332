using Cluster.Grpc;
using Cluster.Grpc.Client;
using Cluster.Testing.Echo;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Cluster.Tests.Grpc;

/// <summary>
/// Our client against a server that answers badly: each bad answer becomes the right status,
/// and the channel stays usable for the next call.
/// </summary>
public sealed class MalformedResponseTests : IAsyncLifetime
{
    private static readonly byte[] Reply = new EchoReply { Message = "ok" }.ToByteArray();
    private RawServer _server = null!;
    private GrpcChannel _channel = null!;

    public async Task InitializeAsync()
    {
        _server = await RawServer.StartAsync(RespondAsync);
        _channel = GrpcChannel.ForAddress(_server.Address);
    }

    public async Task DisposeAsync()
    {
        // The channel survives every bad answer.
        Assert.Equal("ok", (await Call("Good")).Message);
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    [Theory]
    [InlineData("Truncated", StatusCode.Internal, "Incomplete message")]
    [InlineData("TruncatedHeader", StatusCode.Internal, "Incomplete message")]
    [InlineData("BadFlag", StatusCode.Internal, "compressed flag")]
    [InlineData("Oversize", StatusCode.ResourceExhausted, "larger than max")]
    [InlineData("Garbage", StatusCode.Internal, "deserialize response")]
    [InlineData("NoStatus", StatusCode.Internal, "without a grpc-status")]
    [InlineData("BadStatus", StatusCode.Unknown, "Invalid grpc-status")]
    [InlineData("Http503", StatusCode.Unavailable, "503")]
    [InlineData("Http404", StatusCode.Unimplemented, "404")]
    [InlineData("Http401", StatusCode.Unauthenticated, "401")]
    [InlineData("Html", StatusCode.Unknown, "content-type")]
    [InlineData("TwoMessages", StatusCode.Internal, "more than one response")]
    [InlineData("NoMessage", StatusCode.Internal, "without a response message")]
    [InlineData("CompressedNoEncoding", StatusCode.Internal, "no grpc-encoding")]
    [InlineData("UnknownEncoding", StatusCode.Internal, "did not offer")]
    [InlineData("ResetInternal", StatusCode.Internal, "0x2")]
    [InlineData("ResetRefused", StatusCode.Unavailable, "REFUSED_STREAM")]
    [InlineData("PercentMessage", StatusCode.Aborted, "100% done: caf\u00e9")]
    public async Task Bad_answers_become_statuses(string path, StatusCode expected, string detail)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Call(path));

        Assert.Equal(expected, ex.StatusCode);
        Assert.Contains(detail, ex.Status.Detail, StringComparison.Ordinal);
    }

    private Task<EchoReply> Call(string name) =>
        _channel.UnaryAsync(new Method<EchoRequest, EchoReply>("bad.Service", name, MethodType.Unary), new EchoRequest());

    private static async Task RespondAsync(HttpContext context)
    {
        await context.Request.Body.CopyToAsync(Stream.Null);
        var response = context.Response;
        response.ContentType = "application/grpc";
        var status = "0";
        byte[] body = [];
        switch (context.Request.Path.Value!.Split('/')[^1])
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
