using System.Runtime.CompilerServices;
using Google.Protobuf;

namespace Cluster.Grpc.Client;

/// <summary>What every call offers: response headers, the final status and trailers, and cancel-on-dispose.</summary>
public abstract class CallBase<TRequest, TResponse> : IDisposable
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    private protected CallBase(ClientCall<TRequest, TResponse> call)
    {
        Call = call;
    }

    public Task<Metadata> ResponseHeadersAsync => Call.GetResponseHeadersAsync();

    private protected ClientCall<TRequest, TResponse> Call { get; }

    /// <summary>The final status; throws until the call has finished.</summary>
    public Status GetStatus() => Call.GetStatus();

    /// <summary>The trailers; throws until the call has finished.</summary>
    public Metadata GetTrailers() => Call.GetTrailers();

    /// <summary>Cancels the call if it has not finished (the server sees the stream reset).</summary>
    public void Dispose()
    {
        Call.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A unary call: await it (or <see cref="ResponseAsync"/>) for the response.</summary>
public sealed class UnaryCall<TRequest, TResponse> : CallBase<TRequest, TResponse>
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    internal UnaryCall(ClientCall<TRequest, TResponse> call)
        : base(call)
    {
        ResponseAsync = call.ReadSingleResponseAsync();
    }

    public Task<TResponse> ResponseAsync { get; }

    public TaskAwaiter<TResponse> GetAwaiter() => ResponseAsync.GetAwaiter();
}

/// <summary>A server-streaming call: read <see cref="ResponseStream"/> to its end.</summary>
public sealed class ServerStreamingCall<TRequest, TResponse> : CallBase<TRequest, TResponse>
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    internal ServerStreamingCall(ClientCall<TRequest, TResponse> call)
        : base(call)
    {
    }

    public IAsyncStreamReader<TResponse> ResponseStream => Call;
}

/// <summary>A client-streaming call: write <see cref="RequestStream"/>, complete it, await the response.</summary>
public sealed class ClientStreamingCall<TRequest, TResponse> : CallBase<TRequest, TResponse>
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    internal ClientStreamingCall(ClientCall<TRequest, TResponse> call)
        : base(call)
    {
        ResponseAsync = call.ReadSingleResponseAsync();
    }

    public IClientStreamWriter<TRequest> RequestStream => Call;

    public Task<TResponse> ResponseAsync { get; }

    public TaskAwaiter<TResponse> GetAwaiter() => ResponseAsync.GetAwaiter();
}

/// <summary>A bidirectional call: write and read independently, complete the request stream when done.</summary>
public sealed class DuplexStreamingCall<TRequest, TResponse> : CallBase<TRequest, TResponse>
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    internal DuplexStreamingCall(ClientCall<TRequest, TResponse> call)
        : base(call)
    {
    }

    public IClientStreamWriter<TRequest> RequestStream => Call;

    public IAsyncStreamReader<TResponse> ResponseStream => Call;
}
