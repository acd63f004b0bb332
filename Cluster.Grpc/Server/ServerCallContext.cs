using System.Security.Cryptography.X509Certificates;
using Cluster.Grpc.Wire;
using Google.Protobuf;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;

namespace Cluster.Grpc.Server;

/// <summary>
/// One server call: what the handler sees (headers, deadline, cancellation, trailers) and the
/// state behind it (reading request frames, writing response frames, the final status).
/// Every response write and the status go through one gate, so a deadline that fires while a
/// handler writes cannot interleave with it.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The dispatcher owns the call and releases it through the internal DisposeAsync; handlers must not dispose it.")]
public sealed class ServerCallContext
{
    private readonly GrpcServerOptions _options;
    private readonly ILogger _logger;
    private SemaphoreSlim? _writeGate;
    private Metadata? _requestHeaders;
    private Metadata? _responseTrailers;
    private string? _requestEncoding;
    private string? _responseEncoding;
    private CancellationTokenSource? _deadlineCts;
    private CancellationTokenSource? _linkedCts;
    private CancellationTokenRegistration _deadlineRegistration;
    private Task? _deadlineTask;
    private bool _responseStarted;
    private bool _completed;
    private bool _reading;

    internal ServerCallContext(HttpContext httpContext, IMethod method, GrpcServerOptions options, ILogger logger)
    {
        HttpContext = httpContext;
        MethodInfo = method;
        _options = options;
        _logger = logger;
        CancellationToken = httpContext.RequestAborted;
    }

    /// <summary>The method's path, "/package.Service/Method".</summary>
    public string Method => MethodInfo.Path;

    public string? Host => HttpContext.Request.Host.Value;

    /// <summary>The caller's address, "ipv4:127.0.0.1:52100" or "ipv6:[::1]:52100".</summary>
    public string Peer
    {
        get
        {
            var connection = HttpContext.Connection;
            var ip = connection.RemoteIpAddress;
            return ip is null
                ? "unknown"
                : ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
                    ? $"ipv6:[{ip}]:{connection.RemotePort}"
                    : $"ipv4:{ip}:{connection.RemotePort}";
        }
    }

    /// <summary>When the caller stops waiting; <see cref="DateTimeOffset.MaxValue"/> without a deadline.</summary>
    public DateTimeOffset Deadline { get; private set; } = DateTimeOffset.MaxValue;

    /// <summary>Cancelled when the caller cancels or resets the stream, or the deadline passes.</summary>
    public CancellationToken CancellationToken { get; private set; }

    /// <summary>The caller's custom metadata (transport headers left out).</summary>
    public Metadata RequestHeaders => _requestHeaders ??= ReadRequestHeaders();

    /// <summary>Trailers sent with the status. Add to them before the handler returns.</summary>
    public Metadata ResponseTrailers => _responseTrailers ??= new Metadata();

    /// <summary>The status the call ends with when the handler returns normally (default OK).</summary>
    public Status Status { get; set; } = Status.Ok;

    /// <summary>The client's TLS certificate, when the connection is TLS and one was presented.</summary>
    public X509Certificate2? ClientCertificate => HttpContext.Connection.ClientCertificate;

    /// <summary>The HTTP/2 request underneath, for transport details not surfaced here.</summary>
    public HttpContext HttpContext { get; }

    internal IMethod MethodInfo { get; }

    internal bool DeadlineExceeded => _deadlineCts?.IsCancellationRequested == true;

    internal GrpcServerOptions Options => _options;

    /// <summary>Sends response headers now (once, before any message).</summary>
    public async Task WriteResponseHeadersAsync(Metadata headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        await EnterWriteAsync(CancellationToken);
        try
        {
            if (_responseStarted || _completed)
            {
                throw new InvalidOperationException("Response headers can only be sent once, before the first message.");
            }

            foreach (var entry in headers)
            {
                HttpContext.Response.Headers.Append(entry.Key, Metadata.ToWireValue(entry));
            }

            _responseStarted = true;
            await HttpContext.Response.BodyWriter.FlushAsync(CancellationToken);
        }
        finally
        {
            _writeGate?.Release();
        }
    }

    /// <summary>Validates the call's headers and arms the deadline. Throws RpcException on bad input.</summary>
    internal void Initialize()
    {
        var request = HttpContext.Request;
        var response = HttpContext.Response;
        response.ContentType = GrpcProtocol.ContentType;

        // Per-message limits apply instead of Kestrel's whole-body ones; streams may be long-lived and idle.
        if (HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } maxBody)
        {
            maxBody.MaxRequestBodySize = null;
        }

        if (HttpContext.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } minRate)
        {
            minRate.MinDataRate = null;
        }

        var encoding = request.Headers[GrpcProtocol.EncodingHeader].ToString();
        if (encoding.Length > 0 && encoding != MessageCompression.Identity)
        {
            if (!MessageCompression.IsSupported(encoding))
            {
                response.Headers[GrpcProtocol.AcceptEncodingHeader] = MessageCompression.AcceptEncoding;
                throw new RpcException(StatusCode.Unimplemented, $"Unsupported grpc-encoding '{encoding}'. Supported: {MessageCompression.AcceptEncoding}.");
            }

            _requestEncoding = encoding;
        }

        if (_options.ResponseCompression is { } wanted && ClientAccepts(request.Headers[GrpcProtocol.AcceptEncodingHeader].ToString(), wanted))
        {
            _responseEncoding = wanted;
            response.Headers[GrpcProtocol.EncodingHeader] = wanted;
        }

        var timeoutHeader = request.Headers[GrpcProtocol.TimeoutHeader].ToString();
        TimeSpan? timeout = null;
        if (timeoutHeader.Length > 0)
        {
            timeout = GrpcTimeout.TryParse(timeoutHeader, out var parsed)
                ? parsed
                : throw new RpcException(StatusCode.Internal, $"Malformed grpc-timeout '{timeoutHeader}'.");
        }

        // Writes can only race when the handler streams responses or a deadline may answer for it.
        if (timeout is not null || MethodInfo.Type is MethodType.ServerStreaming or MethodType.DuplexStreaming)
        {
            _writeGate = new SemaphoreSlim(1, 1);
        }

        if (timeout is { } deadline)
        {
            ArmDeadline(deadline);
        }
    }

    /// <summary>Reads the next request message, or null at the clean end of the request stream.</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<T?> ReadMessageAsync<T>(MessageParser<T> parser, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        if (_reading)
        {
            throw new InvalidOperationException("Only one read can be pending at a time.");
        }

        _reading = true;
        var reader = HttpContext.Request.BodyReader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                if (MessageFraming.TryReadFrame(ref buffer, _options.MaxReceiveMessageSize, out var compressed, out var payload))
                {
                    try
                    {
                        return MessageCodec.Read(payload, compressed, _requestEncoding, parser, _options.MaxReceiveMessageSize, "request");
                    }
                    finally
                    {
                        reader.AdvanceTo(buffer.Start);
                    }
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    var leftover = buffer.Length;
                    reader.AdvanceTo(buffer.End);
                    if (leftover == 0 && result.IsCompleted)
                    {
                        return null;
                    }

                    throw new RpcException(StatusCode.Internal, "Incomplete message: the request stream ended inside a message.");
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (Exception ex) when (IsReset(ex, cancellationToken))
        {
            throw ClientReset(ex);
        }
        finally
        {
            _reading = false;
        }
    }

    /// <summary>Reads exactly one message followed by the end of the request stream (unary and server-streaming).</summary>
    internal async ValueTask<T> ReadSingleMessageAsync<T>(MessageParser<T> parser)
        where T : class, IMessage<T>
    {
        var message = await ReadMessageAsync(parser, CancellationToken)
            ?? throw new RpcException(StatusCode.Internal, "The request stream ended without a message.");
        if (await ReadMessageAsync(parser, CancellationToken) is not null)
        {
            throw new RpcException(StatusCode.Internal, "The request stream has more than one message for a single-request method.");
        }

        return message;
    }

    /// <summary>Writes one response message; flushes unless the status follows at once (unary).</summary>
    internal async Task WriteMessageAsync(IMessage message, bool flush, CancellationToken cancellationToken)
    {
        await EnterWriteAsync(cancellationToken);
        try
        {
            if (_completed)
            {
                throw DeadlineExceeded
                    ? new RpcException(StatusCode.DeadlineExceeded, "Deadline exceeded.")
                    : new InvalidOperationException("Cannot write a message after the call has completed.");
            }

            var writer = HttpContext.Response.BodyWriter;
            MessageCodec.Write(writer, message, _responseEncoding, _options.CompressionLevel, _options.MaxSendMessageSize);
            _responseStarted = true;
            if (flush)
            {
                var result = await writer.FlushAsync(cancellationToken);
                if (result.IsCompleted)
                {
                    throw new RpcException(StatusCode.Cancelled, "The client is gone.");
                }
            }
        }
        catch (Exception ex) when (IsReset(ex, cancellationToken))
        {
            throw ClientReset(ex);
        }
        finally
        {
            _writeGate?.Release();
        }
    }

    /// <summary>Ends the call with a status, once; later attempts (a deadline that already answered) are ignored.</summary>
    internal async Task CompleteAsync(Status status, Metadata? extraTrailers)
    {
        await EnterWriteAsync(CancellationToken.None);
        try
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            WriteStatus(status, extraTrailers);
        }
        finally
        {
            _writeGate?.Release();
        }
    }

    /// <summary>Turns whatever ended the handler into the call's status.</summary>
    internal async Task FailAsync(Exception exception)
    {
        if (HttpContext.RequestAborted.IsCancellationRequested)
        {
            // The client reset the stream: nobody is left to tell.
            Log.CallCancelledByClient(_logger, Method);
            return;
        }

        Status status;
        Metadata? trailers = null;
        switch (exception)
        {
            case RpcException rpc:
                status = rpc.Status;
                trailers = rpc.Trailers;
                break;
            case OperationCanceledException when DeadlineExceeded:
                status = new Status(StatusCode.DeadlineExceeded, "Deadline exceeded.");
                break;
            default:
                Log.HandlerFailed(_logger, Method, exception);
                status = new Status(
                    StatusCode.Unknown,
                    _options.EnableDetailedErrors ? $"Exception was thrown by handler. {exception.GetType().Name}: {exception.Message}" : "Exception was thrown by handler.");
                break;
        }

        try
        {
            await CompleteAsync(status, trailers);
        }
        catch (Exception ex) when (ex is IOException or ConnectionAbortedException or OperationCanceledException)
        {
            Log.StatusNotSent(_logger, Method, ex);
        }
    }

    /// <summary>Stops the deadline timer and waits for a deadline response already under way.</summary>
    internal async ValueTask DisposeAsync()
    {
        // Dispose waits for a running callback, so _deadlineTask is settled after it.
        _deadlineRegistration.Dispose();
        if (_deadlineTask is { } task)
        {
            await task;
        }

        _linkedCts?.Dispose();
        _deadlineCts?.Dispose();
    }

    /// <summary>
    /// Kestrel reports a stream the client reset as IOException, ConnectionAbortedException or a
    /// cancellation (from reads, AdvanceTo and flushes), sometimes before RequestAborted flips.
    /// </summary>
    private static bool IsReset(Exception ex, CancellationToken ours) =>
        ex is IOException or ConnectionAbortedException
        || (ex is OperationCanceledException && !ours.IsCancellationRequested);

    private static RpcException ClientReset(Exception ex) =>
        new(new Status(StatusCode.Cancelled, "The client reset the stream."), null, ex);

    private ValueTask EnterWriteAsync(CancellationToken cancellationToken) =>
        _writeGate is { } gate ? new ValueTask(gate.WaitAsync(cancellationToken)) : ValueTask.CompletedTask;

    private void ArmDeadline(TimeSpan timeout)
    {
        var time = _options.TimeProvider;
        var now = time.GetUtcNow();
        Deadline = timeout >= DateTimeOffset.MaxValue - now ? DateTimeOffset.MaxValue : now + timeout;

        // Timers accept at most ~49 days; a longer deadline is no deadline in practice.
        if (timeout.TotalMilliseconds >= uint.MaxValue - 1)
        {
            return;
        }

        _deadlineCts = new CancellationTokenSource(timeout, time);
        _linkedCts = CancellationTokenSource.CreateLinkedTokenSource(HttpContext.RequestAborted, _deadlineCts.Token);
        CancellationToken = _linkedCts.Token;
        _deadlineRegistration = _deadlineCts.Token.UnsafeRegister(static state => ((ServerCallContext)state!).OnDeadline(), this);
    }

    private void OnDeadline()
    {
        _deadlineTask = SendDeadlineExceededAsync();
    }

    private async Task SendDeadlineExceededAsync()
    {
        await Task.Yield();
        await EnterWriteAsync(CancellationToken.None);
        try
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            Log.DeadlineExceeded(_logger, Method);
            WriteStatus(new Status(StatusCode.DeadlineExceeded, "Deadline exceeded."), _responseTrailers);

            // Answer now; the handler has been cancelled and is left to finish on its own.
            await HttpContext.Response.CompleteAsync();
        }
        catch (Exception ex) when (ex is IOException or ConnectionAbortedException or InvalidOperationException)
        {
            Log.StatusNotSent(_logger, Method, ex);
        }
        finally
        {
            _writeGate?.Release();
        }
    }

    private void WriteStatus(Status status, Metadata? extraTrailers)
    {
        var response = HttpContext.Response;
        var trailersOnly = !_responseStarted && !response.HasStarted;
        var target = trailersOnly ? response.Headers : HttpContext.Features.Get<IHttpResponseTrailersFeature>()?.Trailers;
        if (target is null)
        {
            throw new InvalidOperationException("The transport does not support HTTP trailers; gRPC needs HTTP/2.");
        }

        target[GrpcProtocol.StatusHeader] = ((int)status.Code).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!string.IsNullOrEmpty(status.Detail))
        {
            target[GrpcProtocol.MessageHeader] = PercentEncoding.Encode(status.Detail);
        }

        AppendAll(target, _responseTrailers);
        if (!ReferenceEquals(extraTrailers, _responseTrailers))
        {
            AppendAll(target, extraTrailers);
        }
    }

    private static void AppendAll(IHeaderDictionary target, Metadata? metadata)
    {
        if (metadata is null)
        {
            return;
        }

        foreach (var entry in metadata)
        {
            target.Append(entry.Key, Metadata.ToWireValue(entry));
        }
    }

    private Metadata ReadRequestHeaders()
    {
        var metadata = new Metadata();
        foreach (var header in HttpContext.Request.Headers)
        {
            if (GrpcProtocol.IsReservedHeader(header.Key))
            {
                continue;
            }

            var key = header.Key.ToLowerInvariant();
            foreach (var value in header.Value)
            {
                if (value is not null && !metadata.TryAddFromWire(key, value))
                {
                    Log.BadBinaryHeader(_logger, Method, key);
                }
            }
        }

        return metadata;
    }

    private static bool ClientAccepts(string acceptEncoding, string encoding)
    {
        foreach (var range in acceptEncoding.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (range == encoding)
            {
                return true;
            }
        }

        return false;
    }
}
