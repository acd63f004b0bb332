using System.Buffers.Binary;
using System.Net;

namespace Cluster.Benchmarks;

/// <summary>
/// The ceiling's client: HttpClient's HTTP/2 stack sending the precomputed request frame and
/// reading the response to its trailers. Same transport settings as the library client (LibraryEcho.Channel).
/// </summary>
public sealed class RawClient : IDisposable
{
    private static readonly byte[] RequestFrame = BenchPayload.Framed(BenchPayload.Request);
    private readonly HttpMessageInvoker _invoker = new(new SocketsHttpHandler
    {
        EnableMultipleHttp2Connections = true,
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
    });

    private readonly Uri _unary;
    private readonly Uri _bidi;

    public RawClient(Uri address)
    {
        _unary = new Uri(address, "/cluster.testing.Echo/Unary");
        _bidi = new Uri(address, "/cluster.testing.Echo/Bidi");
    }

    public async Task UnaryAsync()
    {
        using var request = NewRequest(_unary, new ByteArrayContent(RequestFrame));
        using var response = await _invoker.SendAsync(request, CancellationToken.None);
        var body = await response.Content.ReadAsByteArrayAsync();
        if (body.Length < 5 || !response.TrailingHeaders.Contains("grpc-status"))
        {
            throw new InvalidOperationException("Bad response from the bare server.");
        }
    }

    /// <summary>Opens one bidirectional exchange: send writes a frame, receive reads one.</summary>
    public async Task<(Func<Task> Send, Func<ValueTask<bool>> Receive, Func<Task> Complete, IDisposable Request)> OpenStreamAsync()
    {
        var content = new StreamingContent();
        var request = NewRequest(_bidi, content);
        var responseTask = _invoker.SendAsync(request, CancellationToken.None);
        var stream = await content.Stream;
        async Task Send()
        {
            await stream.WriteAsync(RequestFrame);
            await stream.FlushAsync();
        }

        // The server answers headers with its first message: read them lazily.
        var body = new Lazy<Task<Stream>>(async () => await (await responseTask).Content.ReadAsStreamAsync());
        var header = new byte[5];
        var payload = new byte[4096];
        async ValueTask<bool> Receive()
        {
            var stream = await body.Value;
            var read = await stream.ReadAtLeastAsync(header, 5, throwOnEndOfStream: false);
            if (read < 5)
            {
                return false;
            }

            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
            await stream.ReadExactlyAsync(payload.AsMemory(0, length));
            return true;
        }

        Task Complete()
        {
            content.Complete();
            return Task.CompletedTask;
        }

        return (Send, Receive, Complete, request);
    }

    public void Dispose() => _invoker.Dispose();

    private static HttpRequestMessage NewRequest(Uri uri, HttpContent content)
    {
        content.Headers.TryAddWithoutValidation("Content-Type", "application/grpc");
        var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        return request;
    }

    private sealed class StreamingContent : HttpContent
    {
        private readonly TaskCompletionSource<Stream> _stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<Stream> Stream => _stream.Task;

        public void Complete() => _done.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.FlushAsync();
            _stream.TrySetResult(stream);
            await _done.Task;
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}
