using Google.Protobuf;

namespace Cluster.Grpc.Server;

/// <summary>A registered method: reads requests, runs the handler, writes responses.</summary>
internal abstract class ServerMethod(IMethod method)
{
    public IMethod Method { get; } = method;

    public abstract Task InvokeAsync(ServerCallContext call);
}

internal sealed class UnaryServerMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryHandler<TRequest, TResponse> handler)
    : ServerMethod(method)
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    public override async Task InvokeAsync(ServerCallContext call)
    {
        var request = await call.ReadSingleMessageAsync(method.RequestParser);
        var response = await handler(request, call);
        if (call.Status.Code == StatusCode.OK)
        {
            // No flush: the message and the trailers leave together when the call ends.
            await call.WriteMessageAsync(response, flush: false, call.CancellationToken);
        }
    }
}

internal sealed class ClientStreamingServerMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingHandler<TRequest, TResponse> handler)
    : ServerMethod(method)
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    public override async Task InvokeAsync(ServerCallContext call)
    {
        var response = await handler(new ServerStreamReader<TRequest>(call, method.RequestParser), call);
        if (call.Status.Code == StatusCode.OK)
        {
            await call.WriteMessageAsync(response, flush: false, call.CancellationToken);
        }
    }
}

internal sealed class ServerStreamingServerMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingHandler<TRequest, TResponse> handler)
    : ServerMethod(method)
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    public override async Task InvokeAsync(ServerCallContext call)
    {
        var request = await call.ReadSingleMessageAsync(method.RequestParser);
        await handler(request, new ServerStreamWriter<TResponse>(call), call);
    }
}

internal sealed class DuplexStreamingServerMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingHandler<TRequest, TResponse> handler)
    : ServerMethod(method)
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    public override Task InvokeAsync(ServerCallContext call) =>
        handler(new ServerStreamReader<TRequest>(call, method.RequestParser), new ServerStreamWriter<TResponse>(call), call);
}

/// <summary>The request stream as a handler sees it.</summary>
internal sealed class ServerStreamReader<T>(ServerCallContext call, MessageParser<T> parser) : IAsyncStreamReader<T>
    where T : class, IMessage<T>
{
    private T? _current;

    public T Current => _current ?? throw new InvalidOperationException("MoveNext has not returned true.");

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> MoveNext(CancellationToken cancellationToken = default)
    {
        using var linked = Link(call.CancellationToken, cancellationToken);
        _current = await call.ReadMessageAsync(parser, linked?.Token ?? call.CancellationToken);
        return _current is not null;
    }

    internal static CancellationTokenSource? Link(CancellationToken callToken, CancellationToken token) =>
        token.CanBeCanceled && token != callToken ? CancellationTokenSource.CreateLinkedTokenSource(callToken, token) : null;
}

/// <summary>The response stream as a handler sees it.</summary>
internal sealed class ServerStreamWriter<T>(ServerCallContext call) : IAsyncStreamWriter<T>
    where T : class, IMessage<T>
{
    public async Task WriteAsync(T message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        using var linked = ServerStreamReader<T>.Link(call.CancellationToken, cancellationToken);
        await call.WriteMessageAsync(message, flush: true, linked?.Token ?? call.CancellationToken);
    }
}
