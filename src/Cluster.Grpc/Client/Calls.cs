using System.Runtime.CompilerServices;
using Google.Protobuf;

namespace Cluster.Grpc.Client;

/// <summary>A unary call: await it (or <see cref="ResponseAsync"/>) for the response.</summary>
public sealed class UnaryCall<TRequest, TResponse> : IDisposable
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    private readonly ClientCall<TRequest, TResponse> _call;

    internal UnaryCall(ClientCall<TRequest, TResponse> call)
    {
        _call = call;
        ResponseAsync = call.ReadSingleResponseAsync();
    }

    public Task<TResponse> ResponseAsync { get; }

    public Task<Metadata> ResponseHeadersAsync => _call.GetResponseHeadersAsync();

    public Status GetStatus() => _call.GetStatus();

    public Metadata GetTrailers() => _call.GetTrailers();

    public TaskAwaiter<TResponse> GetAwaiter() => ResponseAsync.GetAwaiter();

    /// <summary>Cancels the call if it has not finished.</summary>
    public void Dispose() => _call.Dispose();
}

/// <summary>A server-streaming call: read <see cref="ResponseStream"/> to its end.</summary>
public sealed class ServerStreamingCall<TRequest, TResponse> : IDisposable
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    private readonly ClientCall<TRequest, TResponse> _call;

    internal ServerStreamingCall(ClientCall<TRequest, TResponse> call)
    {
        _call = call;
    }

    public IAsyncStreamReader<TResponse> ResponseStream => _call;

    public Task<Metadata> ResponseHeadersAsync => _call.GetResponseHeadersAsync();

    public Status GetStatus() => _call.GetStatus();

    public Metadata GetTrailers() => _call.GetTrailers();

    public void Dispose() => _call.Dispose();
}

/// <summary>A client-streaming call: write <see cref="RequestStream"/>, complete it, await the response.</summary>
public sealed class ClientStreamingCall<TRequest, TResponse> : IDisposable
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    private readonly ClientCall<TRequest, TResponse> _call;

    internal ClientStreamingCall(ClientCall<TRequest, TResponse> call)
    {
        _call = call;
        ResponseAsync = call.ReadSingleResponseAsync();
    }

    public IClientStreamWriter<TRequest> RequestStream => _call;

    public Task<TResponse> ResponseAsync { get; }

    public Task<Metadata> ResponseHeadersAsync => _call.GetResponseHeadersAsync();

    public Status GetStatus() => _call.GetStatus();

    public Metadata GetTrailers() => _call.GetTrailers();

    public TaskAwaiter<TResponse> GetAwaiter() => ResponseAsync.GetAwaiter();

    public void Dispose() => _call.Dispose();
}

/// <summary>A bidirectional call: write and read independently, complete the request stream when done.</summary>
public sealed class DuplexStreamingCall<TRequest, TResponse> : IDisposable
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    private readonly ClientCall<TRequest, TResponse> _call;

    internal DuplexStreamingCall(ClientCall<TRequest, TResponse> call)
    {
        _call = call;
    }

    public IClientStreamWriter<TRequest> RequestStream => _call;

    public IAsyncStreamReader<TResponse> ResponseStream => _call;

    public Task<Metadata> ResponseHeadersAsync => _call.GetResponseHeadersAsync();

    public Status GetStatus() => _call.GetStatus();

    public Metadata GetTrailers() => _call.GetTrailers();

    public void Dispose() => _call.Dispose();
}
