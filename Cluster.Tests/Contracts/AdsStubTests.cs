using System.Net;
using Cluster.Server.Rpc;
using Envoy.Service.Discovery.V3;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using EnvoyCluster = Envoy.Config.Cluster.V3.Cluster;

namespace Cluster.Tests.Contracts;

/// <summary>
/// The generated Envoy discovery service stubs on the libraries: an ADS stream served by our gRPC
/// host (Grpc.AspNetCore) and opened by Grpc.Net.Client, as Envoy opens it, carries a request
/// and a response with a packed Cluster each way.
/// </summary>
public sealed class AdsStubTests
{
    private const string ClusterType = "type.googleapis.com/envoy.config.cluster.v3.Cluster";

    [Fact]
    public async Task An_ads_stream_round_trips_a_cluster_through_the_generated_stubs()
    {
        await using var host = await GrpcHost.StartAsync(
            new GrpcHostOptions { Endpoints = [new IPEndPoint(IPAddress.Loopback, 0)] },
            services => services.AddSingleton<OneClusterAds>(),
            endpoints => endpoints.MapGrpcService<OneClusterAds>());
        using var channel = GrpcChannel.ForAddress(host.Addresses[0]);
        var client = new AggregatedDiscoveryService.AggregatedDiscoveryServiceClient(channel);

        using var stream = client.StreamAggregatedResources(deadline: DateTime.UtcNow.AddSeconds(30));
        await stream.RequestStream.WriteAsync(new DiscoveryRequest { Node = new Envoy.Config.Core.V3.Node { Id = "web-sidecar-proxy" }, TypeUrl = ClusterType });
        Assert.True(await stream.ResponseStream.MoveNext(CancellationToken.None));
        var response = stream.ResponseStream.Current;
        await stream.RequestStream.CompleteAsync();

        Assert.Equal(ClusterType, response.TypeUrl);
        Assert.Equal("1", response.VersionInfo);
        var cluster = response.Resources.Single().Unpack<EnvoyCluster>();
        Assert.Equal(EnvoyTypesTests.SampleCluster(), cluster);
        Assert.Equal("web-sidecar-proxy", response.Nonce);
        Assert.False(await stream.ResponseStream.MoveNext(CancellationToken.None));
    }

    /// <summary>Answers each request with the sample cluster, the node's id as the nonce (so the test sees the request arrived whole).</summary>
    private sealed class OneClusterAds : AggregatedDiscoveryService.AggregatedDiscoveryServiceBase
    {
        public override async Task StreamAggregatedResources(IAsyncStreamReader<DiscoveryRequest> requestStream, IServerStreamWriter<DiscoveryResponse> responseStream, ServerCallContext context)
        {
            await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
            {
                await responseStream.WriteAsync(new DiscoveryResponse
                {
                    TypeUrl = request.TypeUrl,
                    VersionInfo = "1",
                    Nonce = request.Node?.Id ?? "",
                    Resources = { Any.Pack(EnvoyTypesTests.SampleCluster()) },
                });
            }
        }
    }
}
