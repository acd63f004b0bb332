using Cluster.Testing.Echo;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using EchoGrpc = Cluster.Testing.Echo.Echo;

namespace Cluster.Benchmarks;

/// <summary>
/// The echo pair on the libraries: Grpc.AspNetCore serving the generated Echo base class with
/// lean handlers (no headers, no status logic), on Kestrel h2c with the same limits as the ceiling.
/// </summary>
public static class LibraryEcho
{
    public static WebApplication Build()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = null;
            k.Limits.MinRequestBodyDataRate = null;
            k.Listen(System.Net.IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddGrpc();
        var app = builder.Build();
        app.MapGrpcService<Service>();
        return app;
    }

    /// <summary>Grpc.Net.Client's channel with the ceiling client's transport settings.</summary>
    public static global::Grpc.Net.Client.GrpcChannel Channel(Uri address) =>
        global::Grpc.Net.Client.GrpcChannel.ForAddress(address, new global::Grpc.Net.Client.GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                AllowAutoRedirect = false,
                UseCookies = false,
                UseProxy = false,
            },
        });

    private sealed class Service : EchoGrpc.EchoBase
    {
        public override Task<EchoReply> Unary(EchoRequest request, ServerCallContext context) =>
            Task.FromResult(new EchoReply { Message = request.Message, Payload = request.Payload });

        public override async Task Bidi(IAsyncStreamReader<EchoRequest> requestStream, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
        {
            while (await requestStream.MoveNext())
            {
                var request = requestStream.Current;
                await responseStream.WriteAsync(new EchoReply { Message = request.Message, Payload = request.Payload });
            }
        }
    }
}
