using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Grpc.Server;

/// <summary>
/// Where a server listens. Without a certificate the port speaks h2c (HTTP/2 with prior
/// knowledge); with one it speaks h2 over TLS, negotiated by ALPN.
/// </summary>
public sealed record GrpcEndpoint(IPEndPoint EndPoint)
{
    public X509Certificate2? Certificate { get; init; }

    /// <summary>Further TLS settings (client certificates for mTLS, protocols), applied after the certificate.</summary>
    public Action<HttpsConnectionAdapterOptions>? ConfigureTls { get; init; }

    public static GrpcEndpoint Loopback(int port = 0) => new(new IPEndPoint(IPAddress.Loopback, port));
}

/// <summary>HTTP/2 connection limits of the host.</summary>
public sealed record GrpcHostOptions
{
    /// <summary>Concurrent streams a client may open on one connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS).</summary>
    public int MaxStreamsPerConnection { get; init; } = 100;

    /// <summary>Ping an idle connection this often to find dead peers; null leaves it off.</summary>
    public TimeSpan? KeepAlivePingDelay { get; init; }

    public TimeSpan KeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>How long disposing the server waits for calls in progress before it aborts them.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// A gRPC server on Kestrel: the dispatcher behind one or more endpoints. Start it, read the
/// bound <see cref="Addresses"/> (port 0 picks a free port), dispose it to stop.
/// </summary>
public sealed class GrpcServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TimeSpan _shutdownTimeout;

    private GrpcServer(WebApplication app, GrpcDispatcher dispatcher, IReadOnlyList<Uri> addresses, TimeSpan shutdownTimeout)
    {
        _app = app;
        _shutdownTimeout = shutdownTimeout;
        Dispatcher = dispatcher;
        Addresses = addresses;
    }

    public GrpcDispatcher Dispatcher { get; }

    /// <summary>The bound addresses, e.g. http://127.0.0.1:41234 (h2c) or https://127.0.0.1:41235 (TLS).</summary>
    public IReadOnlyList<Uri> Addresses { get; }

    public static async Task<GrpcServer> StartAsync(
        IReadOnlyList<GrpcEndpoint> endpoints,
        GrpcServiceRegistry services,
        GrpcServerOptions? options = null,
        GrpcHostOptions? hostOptions = null,
        ILoggerFactory? loggerFactory = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (endpoints.Count == 0)
        {
            throw new ArgumentException("A server needs at least one endpoint.", nameof(endpoints));
        }

        hostOptions ??= new GrpcHostOptions();
        loggerFactory ??= NullLoggerFactory.Instance;
        var dispatcher = new GrpcDispatcher(services, options, loggerFactory.CreateLogger<GrpcDispatcher>());

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddLogging();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.Http2.MaxStreamsPerConnection = hostOptions.MaxStreamsPerConnection;
            if (hostOptions.KeepAlivePingDelay is { } delay)
            {
                kestrel.Limits.Http2.KeepAlivePingDelay = delay;
                kestrel.Limits.Http2.KeepAlivePingTimeout = hostOptions.KeepAlivePingTimeout;
            }

            foreach (var endpoint in endpoints)
            {
                kestrel.Listen(endpoint.EndPoint, listen =>
                {
                    listen.Protocols = HttpProtocols.Http2;
                    if (endpoint.Certificate is { } certificate)
                    {
                        listen.UseHttps(https =>
                        {
                            https.ServerCertificate = certificate;
                            endpoint.ConfigureTls?.Invoke(https);
                        });
                    }
                });
            }
        });

        var app = builder.Build();
        app.Run(dispatcher.HandleAsync);
        await app.StartAsync(cancellationToken);

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
            ?? throw new InvalidOperationException("Kestrel did not report its bound addresses.");
        return new GrpcServer(app, dispatcher, bound.Select(a => new Uri(a)).ToList(), hostOptions.ShutdownTimeout);
    }

    /// <summary>Stops accepting, lets calls in progress finish for up to the shutdown timeout, then aborts them.</summary>
    public async ValueTask DisposeAsync()
    {
        using var grace = new CancellationTokenSource(_shutdownTimeout);
        await _app.StopAsync(grace.Token);
        await _app.DisposeAsync();
    }
}
