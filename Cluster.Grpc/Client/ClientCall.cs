using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using Cluster.Grpc.Wire;
using Google.Protobuf;

namespace Cluster.Grpc.Client;

/// <summary>
/// One client call of any shape: sends the HTTP/2 request, reads response frames, and settles
/// the final status exactly once, whether it comes from the server (trailers, trailers-only,
/// HTTP status, RST_STREAM) or from here (cancellation, deadline, limits, bad frames).
/// The public call types are thin views over it.
/// </summary>
internal sealed class ClientCall<TRequest, TResponse> : IAsyncStreamReader<TResponse>, IClientStreamWriter<TRequest>, IDisposable
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    private const int NotCancelled = -1;

    private readonly GrpcChannel _channel;
    private readonly Method<TRequest, TResponse> _method;
    private readonly CallOptions _options;
    private readonly CancellationTokenSource _cts = new();
    private readonly Lock _lock = new();
    private CancellationTokenRegistration _userRegistration;
    private ITimer? _deadlineTimer;
    private int _cancelCause = NotCancelled;
    private Task<HttpResponseMessage>? _sendTask;
    private Task<HttpResponseMessage>? _responseTask;
    private HttpResponseMessage? _response;
    private FrameReader? _reader;
    private PushStreamContent? _pushContent;
    private Status? _status;
    private Exception? _cause;
    private Metadata? _trailers;
    private HttpHeaders? _trailerSource;
    private string? _responseEncoding;
    private TResponse? _current;
    private bool _requestCompleted;
    private bool _writing;
    private int _reading;

    public ClientCall(GrpcChannel channel, Method<TRequest, TResponse> method, CallOptions options)
    {
        _channel = channel;
        _method = method;
        _options = options;
    }

    public TResponse Current => _current ?? throw new InvalidOperationException("MoveNext has not returned true.");

    /// <summary>Sends the request; <paramref name="request"/> is the single message of unary and server-streaming calls.</summary>
    public void Start(TRequest? request)
    {
        var channelOptions = _channel.Options;
        var message = new HttpRequestMessage(HttpMethod.Post, _channel.GetUri(_method))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        var headers = message.Headers;
        headers.TryAddWithoutValidation("te", "trailers");
        headers.TryAddWithoutValidation("user-agent", GrpcProtocol.UserAgent);
        headers.TryAddWithoutValidation(GrpcProtocol.AcceptEncodingHeader, MessageCompression.AcceptEncoding);
        if (channelOptions.RequestCompression is { } encoding)
        {
            headers.TryAddWithoutValidation(GrpcProtocol.EncodingHeader, encoding);
        }

        if (_options.Headers is { } metadata)
        {
            foreach (var entry in metadata)
            {
                headers.TryAddWithoutValidation(entry.Key, Metadata.ToWireValue(entry));
            }
        }

        if (request is not null)
        {
            byte[] frame;
            try
            {
                frame = Serialize(request);
            }
            catch (RpcException ex)
            {
                message.Dispose();
                Finish(ex.Status, null);
                return;
            }

            message.Content = new FramedMessageContent(frame);
        }
        else
        {
            _pushContent = new PushStreamContent();
            message.Content = _pushContent;
        }

        if (_options.Deadline is { } deadline)
        {
            var timeout = deadline - channelOptions.TimeProvider.GetUtcNow();
            if (timeout <= TimeSpan.Zero)
            {
                message.Dispose();
                Finish(new Status(StatusCode.DeadlineExceeded, "Deadline exceeded before the call started."), null);
                return;
            }

            headers.TryAddWithoutValidation(GrpcProtocol.TimeoutHeader, GrpcTimeout.Format(timeout));
            if (timeout.TotalMilliseconds < uint.MaxValue - 1)
            {
                _deadlineTimer = channelOptions.TimeProvider.CreateTimer(
                    static state => ((ClientCall<TRequest, TResponse>)state!).CancelWith(StatusCode.DeadlineExceeded),
                    this,
                    timeout,
                    Timeout.InfiniteTimeSpan);
            }
        }

        if (_options.CancellationToken.CanBeCanceled)
        {
            _userRegistration = _options.CancellationToken.UnsafeRegister(
                static state => ((ClientCall<TRequest, TResponse>)state!).CancelWith(StatusCode.Cancelled),
                this);
        }

        _sendTask = _channel.Invoker.SendAsync(message, _cts.Token);
    }

    /// <summary>The response headers (custom metadata only). Trailers-only responses have their status here.</summary>
    public async Task<Metadata> GetResponseHeadersAsync()
    {
        var response = await GetResponseAsync() ?? _response;
        return response is null ? throw new RpcException(GetStatus(), Trailers, _cause) : ToMetadata(response.Headers);
    }

    /// <summary>Reads the next response message; false at the end of an OK call, throws for any other status.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> MoveNext(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _reading, 1) == 1)
        {
            throw new InvalidOperationException("Only one read can be pending at a time.");
        }

        using var linked = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static state => ((ClientCall<TRequest, TResponse>)state!).CancelWith(StatusCode.Cancelled), this)
            : default;
        try
        {
            // After the first read the headers are in: skip the await.
            var response = _responseTask is { IsCompletedSuccessfully: true } received ? received.Result : await GetResponseAsync();
            if (response is null || _reader is null || _status is not null)
            {
                return EndOfStream();
            }

            FrameReader.Frame frame;
            try
            {
                // No per-read token: cancelling the call aborts the stream, which ends a pending read.
                frame = await _reader.ReadAsync(_channel.Options.MaxReceiveMessageSize, CancellationToken.None);
            }
            catch (Exception ex)
            {
                throw Fail(ex);
            }

            if (frame.IsEnd)
            {
                var status = ReadStatus(response.TrailingHeaders)
                    ?? new Status(StatusCode.Internal, "The server ended the response without a grpc-status.");
                Finish(status, response.TrailingHeaders);
                return EndOfStream();
            }

            try
            {
                var encoding = _responseEncoding;
                if (frame.Compressed && encoding is not null && !MessageCompression.IsSupported(encoding))
                {
                    throw new RpcException(StatusCode.Internal, $"The server used grpc-encoding '{encoding}', which we did not offer.");
                }

                _current = MessageCodec.Read(
                    new ReadOnlySequence<byte>(frame.Payload),
                    frame.Compressed,
                    encoding,
                    _method.ResponseParser,
                    _channel.Options.MaxReceiveMessageSize,
                    "response");
                return true;
            }
            catch (Exception ex)
            {
                throw Fail(ex);
            }
        }
        finally
        {
            Interlocked.Exchange(ref _reading, 0);
            if (_status is not null)
            {
                // The call ended while we read: the buffer is ours to give back now.
                _reader?.ReturnBuffer();
            }
        }
    }

    /// <summary>The single response of unary and client-streaming calls.</summary>
    public async Task<TResponse> ReadSingleResponseAsync()
    {
        if (!await MoveNext())
        {
            throw new RpcException(StatusCode.Internal, "The server ended the call without a response message.");
        }

        var response = Current;
        if (await MoveNext())
        {
            var status = new Status(StatusCode.Internal, "The server sent more than one response message for a single-response method.");
            Finish(status, null);
            throw new RpcException(status);
        }

        return response;
    }

    public async Task WriteAsync(TRequest message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var content = _pushContent ?? throw new InvalidOperationException("This call has no request stream.");
        if (_requestCompleted)
        {
            throw new InvalidOperationException("The request stream is already complete.");
        }

        ThrowIfFinished();
        if (_writing)
        {
            throw new InvalidOperationException("Only one write can be pending at a time.");
        }

        byte[] frame;
        try
        {
            frame = Serialize(message);
        }
        catch (RpcException ex)
        {
            // A local failure (message too large) ends the call.
            Finish(ex.Status, null);
            throw;
        }

        _writing = true;
        using var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static state => ((ClientCall<TRequest, TResponse>)state!).CancelWith(StatusCode.Cancelled), this)
            : default;
        try
        {
            // No per-write token: cancelling the call aborts the stream, which fails a pending write.
            var stream = await content.StreamAsync;
            await stream.WriteAsync(frame, CancellationToken.None);
            await stream.FlushAsync(CancellationToken.None);
        }
        catch (Exception ex)
        {
            throw await WriteFailureAsync(ex);
        }
        finally
        {
            _writing = false;
        }
    }

    public Task CompleteAsync()
    {
        var content = _pushContent ?? throw new InvalidOperationException("This call has no request stream.");
        _requestCompleted = true;
        content.Complete();
        return Task.CompletedTask;
    }

    /// <summary>The trailers (or trailers-only headers), turned into metadata only when asked for.</summary>
    private Metadata Trailers => _trailers ??= _trailerSource is null ? new Metadata() : ToMetadata(_trailerSource);

    public Status GetStatus() =>
        _status ?? throw new InvalidOperationException("The call has not finished: its status is not known yet.");

    public Metadata GetTrailers() =>
        _status is null
            ? throw new InvalidOperationException("The call has not finished: its trailers are not known yet.")
            : Trailers;

    public void Dispose()
    {
        if (_status is null)
        {
            CancelWith(StatusCode.Cancelled);
            Finish(new Status(StatusCode.Cancelled, "The call was disposed before it finished."), null);
        }

        _cts.Dispose();
    }

    /// <summary>Awaits the response headers once and checks them; null when the call already has its status.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<HttpResponseMessage?> GetResponseAsync()
    {
        Task<HttpResponseMessage> task;
        lock (_lock)
        {
            task = _responseTask ??= ReceiveHeadersAsync();
        }

        try
        {
            return await task;
        }
        catch (RpcException) when (_status is not null)
        {
            return null;
        }
    }

    private async Task<HttpResponseMessage> ReceiveHeadersAsync()
    {
        if (_sendTask is null)
        {
            throw new RpcException(_status ?? Status.Ok, null, _cause);
        }

        HttpResponseMessage response;
        try
        {
            response = await _sendTask;
        }
        catch (Exception ex)
        {
            throw Fail(ex);
        }

        _response = response;
        var headerStatus = ReadStatus(response.Headers);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var status = headerStatus ?? StatusMapping.FromHttpStatus((int)response.StatusCode);
            Finish(status, response.Headers);
            throw new RpcException(status, Trailers);
        }

        var contentType = FirstValue(response.Content.Headers, "content-type");
        if (!GrpcProtocol.IsGrpcContentType(contentType))
        {
            var status = new Status(StatusCode.Unknown, $"Bad gRPC response: content-type '{contentType}'.");
            Finish(status, null);
            throw new RpcException(status);
        }

        var encoding = FirstValue(response.Headers, GrpcProtocol.EncodingHeader);
        _responseEncoding = encoding is null or MessageCompression.Identity ? null : encoding;
        if (headerStatus is { } trailersOnly)
        {
            Finish(trailersOnly, response.Headers);
            throw new RpcException(trailersOnly, Trailers);
        }

        try
        {
            _reader = new FrameReader(await response.Content.ReadAsStreamAsync(_cts.Token));
        }
        catch (Exception ex)
        {
            throw Fail(ex);
        }

        return response;
    }

    private bool EndOfStream()
    {
        var status = _status ?? throw new InvalidOperationException("The response ended without a status.");
        return status.Code == StatusCode.OK ? false : throw new RpcException(status, Trailers, _cause);
    }

    private byte[] Serialize(TRequest message)
    {
        var options = _channel.Options;
        if (options.RequestCompression is null)
        {
            // The common case: one exact-size array, header and message written in place.
            var size = message.CalculateSize();
            MessageCodec.CheckSendSize(size, options.MaxSendMessageSize);

            var frame = new byte[MessageFraming.HeaderSize + size];
            MessageFraming.WriteHeader(frame, compressed: false, size);
            message.WriteTo(frame.AsSpan(MessageFraming.HeaderSize));
            return frame;
        }

        var writer = new ArrayBufferWriter<byte>(MessageFraming.HeaderSize + 64);
        MessageCodec.Write(writer, message, options.RequestCompression, options.CompressionLevel, options.MaxSendMessageSize);
        return writer.WrittenSpan.ToArray();
    }

    private void ThrowIfFinished()
    {
        if (_status is { } status)
        {
            throw status.Code == StatusCode.OK
                ? new InvalidOperationException("The call is complete: no more messages can be written.")
                : new RpcException(status, Trailers, _cause);
        }
    }

    /// <summary>A write failed: the server may have ended the call, or the transport failed.</summary>
    private async Task<Exception> WriteFailureAsync(Exception ex)
    {
        if (_cancelCause != NotCancelled || _status is not null)
        {
            return Fail(ex);
        }

        // The server may have answered with trailers-only (an error before reading); then its status is the answer.
        if (_sendTask is { IsCompleted: true })
        {
            await GetResponseAsync();
            if (_status is not null)
            {
                return Fail(ex);
            }

            return new RpcException(new Status(StatusCode.Cancelled, "The server stopped reading the request stream; read the response for the call's status."), null, ex);
        }

        return Fail(ex);
    }

    /// <summary>Settles the status for an exception (if not yet settled) and returns what to throw.</summary>
    private RpcException Fail(Exception ex)
    {
        // Kept so that later throws of the settled status still say what failed (e.g. "never connected").
        Interlocked.CompareExchange(ref _cause, ex is RpcException { InnerException: { } inner } ? inner : ex, null);
        var status = _status ?? (_cancelCause != NotCancelled ? CancelStatus() : FromException(ex));
        Finish(status, null);
        var final = _status!.Value;
        return ex is RpcException rpc && rpc.Status == final ? rpc : new RpcException(final, Trailers, ex);
    }

    private Status CancelStatus() => (StatusCode)_cancelCause == StatusCode.DeadlineExceeded
        ? new Status(StatusCode.DeadlineExceeded, "Deadline exceeded.")
        : new Status(StatusCode.Cancelled, "The call was cancelled by the client.");

    private static Status FromException(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case RpcException rpc:
                    return rpc.Status;
                case HttpProtocolException protocol:
                    return StatusMapping.FromHttp2ErrorCode(protocol.ErrorCode);
            }
        }

        return ex switch
        {
            HttpRequestException request => new Status(StatusCode.Unavailable, $"Error starting gRPC call: {request.Message}"),
            IOException io => new Status(StatusCode.Unavailable, $"Connection error: {io.Message}"),
            OperationCanceledException => new Status(StatusCode.Cancelled, "The call was cancelled."),
            _ => new Status(StatusCode.Internal, $"Error in gRPC call: {ex.GetType().Name}: {ex.Message}"),
        };
    }

    private void CancelWith(StatusCode cause)
    {
        if (Interlocked.CompareExchange(ref _cancelCause, (int)cause, NotCancelled) == NotCancelled)
        {
            try
            {
                _cts.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Cancelled after dispose: the call is already over.
            }

            // Reads and writes carry no token of their own: aborting the response resets the stream under them.
            _pushContent?.Abort();
            _response?.Dispose();
        }
    }

    /// <summary>Records the final status once and releases what the call holds.</summary>
    private void Finish(Status status, HttpHeaders? trailers)
    {
        lock (_lock)
        {
            if (_status is not null)
            {
                return;
            }

            _status = status;
            _trailerSource = trailers;
        }

        _deadlineTimer?.Dispose();
        _userRegistration.Dispose();
        _pushContent?.Abort();
        if (status.Code != StatusCode.OK)
        {
            // Reset the stream if it is still open; the server stops work on it.
            CancelWith(status.Code == StatusCode.DeadlineExceeded ? StatusCode.DeadlineExceeded : StatusCode.Cancelled);
        }

        _reader?.Dispose();
        _response?.Dispose();

        // A read in progress still uses the buffer; it gives it back when it ends (see MoveNext).
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _reading) == 0)
        {
            _reader?.ReturnBuffer();
        }
    }

    private static Status? ReadStatus(HttpHeaders headers)
    {
        var text = FirstValue(headers, GrpcProtocol.StatusHeader);
        if (text is null)
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code))
        {
            return new Status(StatusCode.Unknown, $"Invalid grpc-status '{text}'.");
        }

        var detail = FirstValue(headers, GrpcProtocol.MessageHeader);
        return new Status((StatusCode)code, detail is null ? "" : PercentEncoding.Decode(detail));
    }

    /// <summary>A header's first value as received, without HttpClient's typed parsing.</summary>
    private static string? FirstValue(HttpHeaders headers, string name)
    {
        if (!headers.NonValidated.TryGetValues(name, out var values))
        {
            return null;
        }

        foreach (var value in values)
        {
            return value;
        }

        return null;
    }

    private static Metadata ToMetadata(HttpHeaders headers)
    {
        var metadata = new Metadata();
        foreach (var header in headers.NonValidated)
        {
            if (GrpcProtocol.IsReservedHeader(header.Key))
            {
                continue;
            }

            var key = header.Key.ToLowerInvariant();
            foreach (var value in header.Value)
            {
                metadata.TryAddFromWire(key, value);
            }
        }

        return metadata;
    }
}
