using System.Collections.Frozen;
using Google.Protobuf;

namespace Cluster.Grpc.Server;

public delegate Task<TResponse> UnaryHandler<in TRequest, TResponse>(TRequest request, ServerCallContext context);

public delegate Task<TResponse> ClientStreamingHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requests, ServerCallContext context);

public delegate Task ServerStreamingHandler<in TRequest, TResponse>(TRequest request, IAsyncStreamWriter<TResponse> responses, ServerCallContext context);

public delegate Task DuplexStreamingHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requests, IAsyncStreamWriter<TResponse> responses, ServerCallContext context);

/// <summary>A component that serves gRPC methods: it adds its handlers to a registry.</summary>
public interface IGrpcService
{
    void Register(GrpcServiceRegistry registry);
}

/// <summary>
/// The methods a server answers, keyed by path. Each handler is registered against the same
/// <see cref="Method{TRequest,TResponse}"/> declaration the client uses, and its shape is checked.
/// </summary>
public sealed class GrpcServiceRegistry
{
    private readonly Dictionary<string, ServerMethod> _methods = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Paths => _methods.Keys;

    public GrpcServiceRegistry Add(IGrpcService service)
    {
        ArgumentNullException.ThrowIfNull(service);
        service.Register(this);
        return this;
    }

    public GrpcServiceRegistry AddUnary<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryHandler<TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        Add(method, MethodType.Unary, new UnaryServerMethod<TRequest, TResponse>(method, handler));

    public GrpcServiceRegistry AddClientStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingHandler<TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        Add(method, MethodType.ClientStreaming, new ClientStreamingServerMethod<TRequest, TResponse>(method, handler));

    public GrpcServiceRegistry AddServerStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingHandler<TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        Add(method, MethodType.ServerStreaming, new ServerStreamingServerMethod<TRequest, TResponse>(method, handler));

    public GrpcServiceRegistry AddDuplexStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingHandler<TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        Add(method, MethodType.DuplexStreaming, new DuplexStreamingServerMethod<TRequest, TResponse>(method, handler));

    internal FrozenDictionary<string, ServerMethod> Freeze() => _methods.ToFrozenDictionary(StringComparer.Ordinal);

    private GrpcServiceRegistry Add(IMethod method, MethodType expected, ServerMethod serverMethod)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (method.Type != expected)
        {
            throw new ArgumentException($"{method.Path} is a {method.Type} method; it cannot take a {expected} handler.", nameof(method));
        }

        if (!_methods.TryAdd(method.Path, serverMethod))
        {
            throw new InvalidOperationException($"{method.Path} is already registered.");
        }

        return this;
    }
}
