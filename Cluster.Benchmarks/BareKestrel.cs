using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Cluster.Benchmarks;

/// <summary>
/// The ceiling: Kestrel HTTP/2 doing the same byte exchange as a gRPC echo, with none of the
/// gRPC work (no method table, no protobuf, no status logic). Each complete length-prefixed
/// request frame is answered with the precomputed reply frame, then grpc-status 0 in trailers.
/// </summary>
public static class BareKestrel
{
    private static readonly byte[] ReplyFrame = BenchPayload.Framed(BenchPayload.Reply);

    public static WebApplication Build()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;

            // As our gRPC server does per request: per-message limits, long-lived streams.
            k.Limits.MaxRequestBodySize = null;
            k.Limits.MinRequestBodyDataRate = null;
            k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2);
        });
        var app = builder.Build();
        app.Run(HandleAsync);
        return app;
    }

    private static async Task HandleAsync(HttpContext context)
    {
        context.Response.ContentType = "application/grpc";
        var streaming = context.Request.Path.Value!.EndsWith("/Bidi", StringComparison.Ordinal);
        var reader = context.Request.BodyReader;
        var writer = context.Response.BodyWriter;
        while (true)
        {
            var result = await reader.ReadAsync();
            var buffer = result.Buffer;
            var answered = 0;
            while (TryTakeFrame(ref buffer))
            {
                writer.Write(ReplyFrame);
                answered++;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (streaming && answered > 0)
            {
                await writer.FlushAsync();
            }

            if (result.IsCompleted)
            {
                break;
            }
        }

        context.Response.AppendTrailer("grpc-status", "0");
    }

    private static bool TryTakeFrame(ref ReadOnlySequence<byte> buffer)
    {
        if (buffer.Length < 5)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[5];
        buffer.Slice(0, 5).CopyTo(header);
        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (buffer.Length < 5 + length)
        {
            return false;
        }

        buffer = buffer.Slice(5 + length);
        return true;
    }
}
