using System.Net;
using Cluster.Server.Rpc;
using Cluster.Testing.Echo;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using EchoGrpc = Cluster.Testing.Echo.Echo;

namespace Cluster.Tests.Grpc;

/// <summary>
/// The echo service on our gRPC host (<see cref="GrpcHost"/>: Grpc.AspNetCore on Kestrel with the
/// agent's settings) on a loopback port, and Grpc.Net.Client channels to it.
/// </summary>
public sealed class EchoServer : IAsyncDisposable
{
    private EchoServer(GrpcHost host, EchoService echo, bool tls)
    {
        Host = host;
        Echo = echo;
        Address = new Uri($"{(tls ? "https" : "http")}://127.0.0.1:{host.Addresses[0].Port}");
    }

    public GrpcHost Host { get; }

    public EchoService Echo { get; }

    public Uri Address { get; }

    /// <summary>Starts on a free loopback port; <paramref name="configure"/> adjusts the host's options (limits, TLS).</summary>
    public static async Task<EchoServer> StartAsync(Func<GrpcHostOptions, GrpcHostOptions>? configure = null)
    {
        var echo = new EchoService();
        var options = new GrpcHostOptions { Endpoints = [new IPEndPoint(IPAddress.Loopback, 0)] };
        options = configure?.Invoke(options) ?? options;
        var host = await GrpcHost.StartAsync(options, services => services.AddSingleton(echo), endpoints => endpoints.MapGrpcService<EchoService>());
        return new EchoServer(host, echo, options.Certificate is not null);
    }

    /// <summary>A channel to this server; <paramref name="options"/> may set limits or a handler (TLS).</summary>
    public GrpcChannel Channel(GrpcChannelOptions? options = null) => GrpcChannel.ForAddress(Address, options ?? new GrpcChannelOptions());

    public static EchoGrpc.EchoClient Client(GrpcChannel channel) => new(channel);

    /// <summary>Waits (bounded) until no call runs on the server: every handler has returned.</summary>
    public async Task AssertIdleAsync()
    {
        await Echo.WhenIdleAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, Echo.ActiveCalls);
    }

    public ValueTask DisposeAsync() => Host.DisposeAsync();
}

/// <summary>Completes when an event fires; bounded waits so a broken test fails instead of hanging.</summary>
public static class Signal
{
    public static TaskCompletionSource<T> Create<T>() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static Task<T> Within<T>(this TaskCompletionSource<T> source) => source.Task.WaitAsync(TimeSpan.FromSeconds(30));
}
