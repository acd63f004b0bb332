using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cluster.Server.Rpc;

/// <summary>
/// One gRPC listener on Grpc.AspNetCore and Kestrel with <see cref="GrpcHostOptions"/>: HTTP/2
/// only, the control-plane limits, services added by the caller (instances it already holds are
/// registered as singletons, so a service can reach the node that owns it).
/// </summary>
public sealed class GrpcHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TimeSpan _shutdownTimeout;

    private GrpcHost(WebApplication app, IReadOnlyList<Uri> addresses, TimeSpan shutdownTimeout)
    {
        _app = app;
        Addresses = addresses;
        _shutdownTimeout = shutdownTimeout;
    }

    /// <summary>The bound addresses (a port 0 endpoint shows the port the OS chose).</summary>
    public IReadOnlyList<Uri> Addresses { get; }

    /// <summary>Binds the endpoints and starts serving.</summary>
    /// <param name="options">Endpoints, limits and logging.</param>
    /// <param name="services">Adds the service instances (and anything they need) to the container.</param>
    /// <param name="map">Maps the services: <c>endpoints.MapGrpcService&lt;T&gt;()</c>.</param>
    /// <param name="cancellationToken">Gives up starting.</param>
    public static async Task<GrpcHost> StartAsync(GrpcHostOptions options, Action<IServiceCollection> services, Action<IEndpointRouteBuilder> map, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(map);
        if (options.Endpoints.Count == 0)
        {
            throw new ArgumentException("a gRPC host needs at least one endpoint", nameof(options));
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (options.Logging is { } logging)
        {
            builder.Services.AddSingleton(logging);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            var http2 = kestrel.Limits.Http2;
            http2.MaxStreamsPerConnection = options.MaxStreamsPerConnection;
            http2.KeepAlivePingDelay = options.KeepAlivePingDelay;
            http2.KeepAlivePingTimeout = options.KeepAlivePingTimeout;
            http2.InitialStreamWindowSize = options.InitialStreamWindowSize;
            http2.InitialConnectionWindowSize = options.InitialConnectionWindowSize;

            // Streams live for minutes and carry little: Kestrel's minimum data rate would cut an
            // idle watch, and the message size limit (below) bounds a request, not the body.
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.Limits.MaxRequestBodySize = null;
            foreach (var endpoint in options.Endpoints)
            {
                kestrel.Listen(endpoint, listen =>
                {
                    listen.Protocols = HttpProtocols.Http2;
                    if (options.Certificate is { } certificate)
                    {
                        listen.UseHttps(certificate);
                    }
                });
            }
        });
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.MaxReceiveMessageSize;
            grpc.MaxSendMessageSize = options.MaxSendMessageSize;
        });
        services(builder.Services);
        var app = builder.Build();
        app.Use(GrpcTimeoutGuard.InvokeAsync);
        map(app);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
            ?? throw new InvalidOperationException("Kestrel did not report its bound addresses");
        return new GrpcHost(app, [.. bound.Select(a => new Uri(a))], options.ShutdownTimeout);
    }

    public async ValueTask DisposeAsync()
    {
        using var grace = new CancellationTokenSource(_shutdownTimeout);
        try
        {
            await _app.StopAsync(grace.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
