using System.Buffers.Binary;
using System.Net;
using Cluster.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Tests.Grpc;

/// <summary>What a raw HTTP exchange returned: status, headers, body and trailers as they were on the wire.</summary>
public sealed record RawResponse(int HttpStatus, IReadOnlyDictionary<string, string> Headers, byte[] Body, IReadOnlyDictionary<string, string> Trailers)
{
    /// <summary>grpc-status from the trailers, or from the headers of a trailers-only response.</summary>
    public int? GrpcStatus => (Trailers.TryGetValue("grpc-status", out var t) || Headers.TryGetValue("grpc-status", out t)) ? int.Parse(t, System.Globalization.CultureInfo.InvariantCulture) : null;

    public string GrpcMessage => Trailers.TryGetValue("grpc-message", out var m) || Headers.TryGetValue("grpc-message", out m) ? m : "";
}

/// <summary>
/// Speaks HTTP/2 below Grpc.Net.Client, to send what a well-behaved gRPC client never would and
/// to see exactly what the server answered.
/// </summary>
public sealed class RawHttp2Client : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly HttpMessageInvoker _invoker = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });

    /// <summary>A gRPC length-prefixed message: compressed flag, big-endian length, payload.</summary>
    public static byte[] Frame(byte[] payload, byte flag = 0, int? declaredLength = null)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)(declaredLength ?? payload.Length));
        payload.CopyTo(frame, 5);
        return frame;
    }

    public async Task<RawResponse> SendAsync(
        Uri address,
        string path,
        byte[] body,
        string? contentType = "application/grpc",
        IReadOnlyDictionary<string, string>? headers = null,
        HttpMethod? method = null,
        Version? version = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Post, new Uri(address, path))
        {
            Version = version ?? HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        if (contentType is not null)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        request.Headers.TryAddWithoutValidation("te", "trailers");
        foreach (var (key, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(key, value);
        }

        using var cts = new CancellationTokenSource(Bound);
        using var response = await _invoker.SendAsync(request, cts.Token);
        var bytes = await response.Content.ReadAsByteArrayAsync(cts.Token);
        return new RawResponse(
            (int)response.StatusCode,
            response.Headers.Concat(response.Content.Headers).ToDictionary(h => h.Key.ToLowerInvariant(), h => string.Join(",", h.Value)),
            bytes,
            response.TrailingHeaders.ToDictionary(h => h.Key.ToLowerInvariant(), h => string.Join(",", h.Value)));
    }

    /// <summary>
    /// Starts a request, sends <paramref name="partial"/> and then resets the stream (RST_STREAM CANCEL).
    /// With <paramref name="afterFirstReply"/> the reset waits until the server has answered with one
    /// whole message: its handler is then known to be running when the reset arrives.
    /// </summary>
    public async Task SendPartialThenResetAsync(Uri address, string path, byte[] partial, bool afterFirstReply = false)
    {
        var sent = Signal.Create<bool>();
        using var reset = new CancellationTokenSource();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(address, path))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new PartialContent(partial, sent),
        };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        var sending = _invoker.SendAsync(request, reset.Token);
        await sent.Within();
        HttpResponseMessage? response = null;
        try
        {
            if (afterFirstReply)
            {
                // The invoker returns at the response headers; the request body is still open (duplex).
                response = await sending.WaitAsync(Bound);
                using var bounded = new CancellationTokenSource(Bound);
                var body = await response.Content.ReadAsStreamAsync(bounded.Token);
                var header = new byte[5];
                await body.ReadExactlyAsync(header, bounded.Token);
                await body.ReadExactlyAsync(new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1))], bounded.Token);
            }

            await reset.CancelAsync();
            response ??= await sending.WaitAsync(Bound);
        }
        catch (OperationCanceledException) when (reset.IsCancellationRequested)
        {
            // Expected: we reset the stream ourselves before the server answered.
        }
        finally
        {
            // Disposing a response not read to its end resets the stream too.
            response?.Dispose();
        }
    }

    public void Dispose() => _invoker.Dispose();

    private sealed class PartialContent : HttpContent
    {
        private readonly byte[] _partial;
        private readonly TaskCompletionSource<bool> _sent;

        public PartialContent(byte[] partial, TaskCompletionSource<bool> sent)
        {
            _partial = partial;
            _sent = sent;
            Headers.TryAddWithoutValidation("Content-Type", "application/grpc");
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(_partial, cancellationToken);
            await stream.FlushAsync(cancellationToken);
            _sent.TrySetResult(true);
            await cancellationToken.WhenCancelled();
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}

/// <summary>A bare Kestrel server (h2c unless told otherwise) with a request delegate of the test's choosing.</summary>
public sealed class RawServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RawServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<RawServer> StartAsync(RequestDelegate handler, HttpProtocols protocols = HttpProtocols.Http2)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = protocols));
        var app = builder.Build();
        app.Run(handler);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new RawServer(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
