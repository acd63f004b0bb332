using System.Collections.Frozen;
using System.Globalization;
using Cluster.Grpc.Wire;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Grpc.Server;

/// <summary>
/// The request delegate that serves gRPC: checks the request is gRPC over HTTP/2, finds the
/// method by path and runs the call. Mount it on any Kestrel pipeline (app.Run(dispatcher.HandleAsync));
/// <see cref="GrpcServer"/> is the ready-made host.
/// </summary>
public sealed class GrpcDispatcher
{
    private readonly FrozenDictionary<string, ServerMethod> _methods;
    private readonly GrpcServerOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _idleLock = new();
    private TaskCompletionSource? _idle;
    private long _activeCalls;
    private long _totalCalls;

    public GrpcDispatcher(GrpcServiceRegistry services, GrpcServerOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        _methods = services.Freeze();
        _options = options ?? new GrpcServerOptions();
        if (_options.MaxReceiveMessageSize <= 0 || _options.MaxSendMessageSize <= 0)
        {
            throw new ArgumentException("Message size limits must be positive.", nameof(options));
        }

        MessageCompression.Validate(_options.ResponseCompression, nameof(options));
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Calls running now: handlers that have not returned. Zero when the server is idle.</summary>
    public long ActiveCalls => Interlocked.Read(ref _activeCalls);

    /// <summary>Calls dispatched to a handler since start.</summary>
    public long TotalCalls => Interlocked.Read(ref _totalCalls);

    /// <summary>Completes when no call is running (at once if none is). For draining and for tests.</summary>
    public Task WhenIdleAsync()
    {
        lock (_idleLock)
        {
            if (Interlocked.Read(ref _activeCalls) == 0)
            {
                return Task.CompletedTask;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }

    public async Task HandleAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        if (!await AcceptAsync(httpContext))
        {
            return;
        }

        if (!_methods.TryGetValue(httpContext.Request.Path.Value ?? "", out var method))
        {
            // Trailers-only: HTTP 200, the status in the headers, no body.
            var response = httpContext.Response;
            response.ContentType = GrpcProtocol.ContentType;
            response.Headers[GrpcProtocol.StatusHeader] = ((int)StatusCode.Unimplemented).ToString(CultureInfo.InvariantCulture);
            response.Headers[GrpcProtocol.MessageHeader] = PercentEncoding.Encode($"Method {httpContext.Request.Path.Value} is unimplemented.");
            return;
        }

        Interlocked.Increment(ref _activeCalls);
        Interlocked.Increment(ref _totalCalls);
        var call = new ServerCallContext(httpContext, method.Method, _options, _logger);
        try
        {
            call.Initialize();
            await method.InvokeAsync(call);
            await call.CompleteAsync(call.Status, null);
        }
        catch (Exception ex)
        {
            await call.FailAsync(ex);
        }
        finally
        {
            await call.DisposeAsync();
            if (Interlocked.Decrement(ref _activeCalls) == 0)
            {
                SignalIdle();
            }
        }
    }

    private void SignalIdle()
    {
        lock (_idleLock)
        {
            if (Interlocked.Read(ref _activeCalls) == 0 && _idle is { } idle)
            {
                _idle = null;
                idle.TrySetResult();
            }
        }
    }

    /// <summary>Rejects what is not a gRPC request with the HTTP answer the spec asks for.</summary>
    private async ValueTask<bool> AcceptAsync(HttpContext httpContext)
    {
        var request = httpContext.Request;
        var response = httpContext.Response;
        if (!HttpProtocol.IsHttp2(request.Protocol))
        {
            Log.RequestRejected(_logger, $"protocol {request.Protocol}");
            response.StatusCode = StatusCodes.Status426UpgradeRequired;
            response.Headers.Upgrade = "h2";
            response.Headers.Connection = "Upgrade";
            response.ContentType = "text/plain";
            await response.WriteAsync($"gRPC requires HTTP/2; this request used {request.Protocol}.\n");
            return false;
        }

        if (!HttpMethods.IsPost(request.Method))
        {
            Log.RequestRejected(_logger, $"method {request.Method}");
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.Headers.Allow = "POST";
            WriteStatusHeaders(response, StatusCode.Internal, $"gRPC requires POST, not {request.Method}.");
            return false;
        }

        if (!GrpcProtocol.IsGrpcContentType(request.ContentType))
        {
            Log.RequestRejected(_logger, $"content-type {request.ContentType}");
            response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            WriteStatusHeaders(response, StatusCode.Internal, $"Content-Type '{request.ContentType}' is not supported; gRPC requires application/grpc.");
            return false;
        }

        return true;
    }

    private static void WriteStatusHeaders(HttpResponse response, StatusCode code, string detail)
    {
        response.Headers[GrpcProtocol.StatusHeader] = ((int)code).ToString(CultureInfo.InvariantCulture);
        response.Headers[GrpcProtocol.MessageHeader] = PercentEncoding.Encode(detail);
    }
}
