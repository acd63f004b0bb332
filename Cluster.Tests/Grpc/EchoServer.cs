using Cluster.Grpc.Client;
using Cluster.Grpc.Server;
using Cluster.Testing.Echo;

namespace Cluster.Tests.Grpc;

/// <summary>Our gRPC server on a loopback port serving the echo service (and any extra methods).</summary>
public sealed class EchoServer : IAsyncDisposable
{
    private EchoServer(GrpcServer server, EchoService echo)
    {
        Server = server;
        Echo = echo;
    }

    public GrpcServer Server { get; }

    public EchoService Echo { get; }

    public Uri Address => Server.Addresses[0];

    public GrpcDispatcher Dispatcher => Server.Dispatcher;

    public static async Task<EchoServer> StartAsync(
        GrpcServerOptions? options = null,
        Action<GrpcServiceRegistry>? extra = null,
        GrpcEndpoint? endpoint = null)
    {
        var echo = new EchoService();
        var registry = new GrpcServiceRegistry().Add(echo);
        extra?.Invoke(registry);
        var server = await GrpcServer.StartAsync([endpoint ?? GrpcEndpoint.Loopback()], registry, options);
        return new EchoServer(server, echo);
    }

    public GrpcChannel Channel(GrpcChannelOptions? options = null) => GrpcChannel.ForAddress(Address, options);

    /// <summary>Waits (bounded) until no call runs on the server: every handler has returned.</summary>
    public async Task AssertIdleAsync()
    {
        await Dispatcher.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, Dispatcher.ActiveCalls);
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

/// <summary>Completes when an event fires; bounded waits so a broken test fails instead of hanging.</summary>
public static class Signal
{
    public static TaskCompletionSource<T> Create<T>() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static Task<T> Within<T>(this TaskCompletionSource<T> source) => source.Task.WaitAsync(TimeSpan.FromSeconds(30));
}
