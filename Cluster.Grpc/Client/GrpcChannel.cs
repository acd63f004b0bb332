using System.Collections.Concurrent;
using Cluster.Grpc.Wire;
using Google.Protobuf;

namespace Cluster.Grpc.Client;

/// <summary>
/// A client connection to one gRPC server: http:// for h2c (HTTP/2 prior knowledge), https://
/// for h2 over TLS. Calls share HTTP/2 connections; more connections open when one is full.
/// Thread-safe; create one per server and keep it.
/// </summary>
public sealed class GrpcChannel : IDisposable
{
    private readonly ConcurrentDictionary<string, Uri> _uris = new(StringComparer.Ordinal);
    private readonly bool _ownsHandler;

    private GrpcChannel(Uri address, GrpcChannelOptions options)
    {
        if (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException($"Address '{address}' must be http:// (h2c) or https:// (TLS).", nameof(address));
        }

        if (options.MaxReceiveMessageSize <= 0 || options.MaxSendMessageSize <= 0)
        {
            throw new ArgumentException("Message size limits must be positive.", nameof(options));
        }

        MessageCompression.Validate(options.RequestCompression, nameof(options));
        Address = address;
        Options = options;
        HttpMessageHandler handler;
        if (options.HttpHandler is { } custom)
        {
            handler = custom;
        }
        else
        {
            handler = CreateHandler(options);
            _ownsHandler = true;
        }

        Invoker = new HttpMessageInvoker(handler, disposeHandler: _ownsHandler);
    }

    public Uri Address { get; }

    public GrpcChannelOptions Options { get; }

    internal HttpMessageInvoker Invoker { get; }

    public static GrpcChannel ForAddress(string address, GrpcChannelOptions? options = null) =>
        ForAddress(new Uri(address), options);

    public static GrpcChannel ForAddress(Uri address, GrpcChannelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        return new GrpcChannel(address, options ?? new GrpcChannelOptions());
    }

    public Task<TResponse> UnaryAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        Unary(method, request, options).ResponseAsync;

    public UnaryCall<TRequest, TResponse> Unary<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        ArgumentNullException.ThrowIfNull(request);
        return new UnaryCall<TRequest, TResponse>(Start(method, MethodType.Unary, request, options));
    }

    public ServerStreamingCall<TRequest, TResponse> ServerStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        ArgumentNullException.ThrowIfNull(request);
        return new ServerStreamingCall<TRequest, TResponse>(Start(method, MethodType.ServerStreaming, request, options));
    }

    public ClientStreamingCall<TRequest, TResponse> ClientStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        new(Start(method, MethodType.ClientStreaming, null, options));

    public DuplexStreamingCall<TRequest, TResponse> DuplexStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options = default)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        new(Start(method, MethodType.DuplexStreaming, null, options));

    public void Dispose() => Invoker.Dispose();

    internal Uri GetUri(IMethod method) => _uris.GetOrAdd(method.Path, static (path, address) => new Uri(address, path), Address);

    private ClientCall<TRequest, TResponse> Start<TRequest, TResponse>(Method<TRequest, TResponse> method, MethodType expected, TRequest? request, CallOptions options)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        ArgumentNullException.ThrowIfNull(method);
        if (method.Type != expected)
        {
            throw new ArgumentException($"{method.Path} is a {method.Type} method, not {expected}.", nameof(method));
        }

        var call = new ClientCall<TRequest, TResponse>(this, method, options);
        call.Start(request);
        return call;
    }

    private static SocketsHttpHandler CreateHandler(GrpcChannelOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            // More than MaxConcurrentStreams calls open another connection instead of queueing.
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            ConnectTimeout = options.ConnectTimeout,
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
        };
        if (options.KeepAlivePingDelay is { } delay)
        {
            handler.KeepAlivePingDelay = delay;
            handler.KeepAlivePingTimeout = options.KeepAlivePingTimeout;
            handler.KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always;
        }

        if (options.Tls is { } tls)
        {
            handler.SslOptions = tls;
        }

        return handler;
    }
}
