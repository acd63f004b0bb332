using Envoy.Config.Cluster.V3;
using Envoy.Config.Core.V3;
using Envoy.Config.Endpoint.V3;
using Envoy.Config.Listener.V3;
using Envoy.Extensions.Filters.Network.TcpProxy.V3;
using Envoy.Extensions.TransportSockets.Tls.V3;
using Envoy.Service.Discovery.V3;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using EnvoyCluster = Envoy.Config.Cluster.V3.Cluster;

namespace Cluster.Tests.Contracts;

/// <summary>The generated Envoy types survive the two encodings Envoy speaks: protobuf and its JSON mapping.</summary>
public sealed class EnvoyTypesTests
{
    private static readonly TypeRegistry Registry = TypeRegistry.FromFiles(
        ClusterReflection.Descriptor,
        ListenerReflection.Descriptor,
        TcpProxyReflection.Descriptor,
        TlsReflection.Descriptor,
        EndpointReflection.Descriptor,
        DiscoveryReflection.Descriptor);

    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithTypeRegistry(Registry));
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithTypeRegistry(Registry));

    public static EnvoyCluster SampleCluster() => new()
    {
        Name = "db.default.dc1.internal.11111111-2222-3333-4444-555555555555.consul",
        Type = EnvoyCluster.Types.DiscoveryType.Eds,
        EdsClusterConfig = new EnvoyCluster.Types.EdsClusterConfig
        {
            EdsConfig = new ConfigSource { Ads = new AggregatedConfigSource(), ResourceApiVersion = ApiVersion.V3 },
        },
        ConnectTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(5)),
        OutlierDetection = new OutlierDetection(),
        TransportSocket = new TransportSocket
        {
            Name = "tls",
            TypedConfig = Any.Pack(new UpstreamTlsContext
            {
                Sni = "db.default.dc1.internal.11111111-2222-3333-4444-555555555555.consul",
                CommonTlsContext = new CommonTlsContext
                {
                    TlsParams = new TlsParameters { TlsMinimumProtocolVersion = TlsParameters.Types.TlsProtocol.Tlsv12 },
                    ValidationContext = new CertificateValidationContext
                    {
                        TrustedCa = new DataSource { InlineString = "-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----\n" },
                    },
                },
            }),
        },
    };

    public static Listener SampleListener() => new()
    {
        Name = "public_listener:10.0.0.5:21000",
        Address = new Address { SocketAddress = new SocketAddress { Address = "10.0.0.5", PortValue = 21000 } },
        TrafficDirection = TrafficDirection.Inbound,
        FilterChains =
        {
            new FilterChain
            {
                Filters =
                {
                    new Envoy.Config.Listener.V3.Filter
                    {
                        Name = "envoy.filters.network.tcp_proxy",
                        TypedConfig = Any.Pack(new TcpProxy { StatPrefix = "public_listener", Cluster = "local_app" }),
                    },
                },
            },
        },
    };

    [Fact]
    public void Cluster_round_trips_through_bytes_and_json() => AssertRoundTrips(SampleCluster(), EnvoyCluster.Parser);

    [Fact]
    public void Listener_round_trips_through_bytes_and_json() => AssertRoundTrips(SampleListener(), Listener.Parser);

    [Fact]
    public void Delta_discovery_response_round_trips_with_packed_resources()
    {
        var response = new DeltaDiscoveryResponse
        {
            TypeUrl = "type.googleapis.com/envoy.config.cluster.v3.Cluster",
            SystemVersionInfo = "7",
            Nonce = "n-1",
            Resources =
            {
                new Resource { Name = "db", Version = "a1b2", Resource_ = Any.Pack(SampleCluster()) },
                new Resource
                {
                    Name = "web",
                    Version = "c3d4",
                    Resource_ = Any.Pack(new ClusterLoadAssignment
                    {
                        ClusterName = "web",
                        Endpoints =
                        {
                            new LocalityLbEndpoints
                            {
                                LbEndpoints =
                                {
                                    new LbEndpoint
                                    {
                                        Endpoint = new Endpoint { Address = new Address { SocketAddress = new SocketAddress { Address = "10.0.0.7", PortValue = 8080 } } },
                                        HealthStatus = HealthStatus.Healthy,
                                    },
                                },
                            },
                        },
                    }),
                },
            },
            RemovedResources = { "old" },
        };

        var parsed = AssertRoundTrips(response, DeltaDiscoveryResponse.Parser);
        Assert.Equal(SampleCluster(), parsed.Resources[0].Resource_.Unpack<EnvoyCluster>());
        Assert.Equal("10.0.0.7", parsed.Resources[1].Resource_.Unpack<ClusterLoadAssignment>().Endpoints[0].LbEndpoints[0].Endpoint.Address.SocketAddress.Address);
    }

    [Fact]
    public void Json_uses_envoy_field_names_and_type_urls()
    {
        var json = Json.Format(SampleListener());
        Assert.Contains("\"name\": \"public_listener:10.0.0.5:21000\"", json, StringComparison.Ordinal);
        Assert.Contains("\"portValue\": 21000", json, StringComparison.Ordinal);
        Assert.Contains("\"@type\": \"type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy\"", json, StringComparison.Ordinal);
        Assert.Contains("\"trafficDirection\": \"INBOUND\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Ads_service_is_described_for_both_protocols()
    {
        var ads = AdsReflection.Descriptor.Services.Single();
        Assert.Equal("envoy.service.discovery.v3.AggregatedDiscoveryService", ads.FullName);
        var delta = ads.FindMethodByName("DeltaAggregatedResources");
        Assert.True(delta.IsClientStreaming && delta.IsServerStreaming);
        Assert.Equal(DeltaDiscoveryRequest.Descriptor, delta.InputType);
        Assert.Equal(DiscoveryResponse.Descriptor, ads.FindMethodByName("StreamAggregatedResources").OutputType);
    }

    [Fact]
    public void Bootstrap_and_filter_types_are_generated()
    {
        var bootstrap = new Envoy.Config.Bootstrap.V3.Bootstrap
        {
            Node = new Node { Id = "web-sidecar-proxy", Cluster = "web" },
            DynamicResources = new Envoy.Config.Bootstrap.V3.Bootstrap.Types.DynamicResources
            {
                AdsConfig = new ApiConfigSource { ApiType = ApiConfigSource.Types.ApiType.DeltaGrpc, TransportApiVersion = ApiVersion.V3 },
            },
        };
        Assert.Equal(bootstrap, Envoy.Config.Bootstrap.V3.Bootstrap.Parser.ParseFrom(bootstrap.ToByteArray()));
        Assert.NotNull(Envoy.Extensions.Filters.Network.HttpConnectionManager.V3.HttpConnectionManager.Descriptor);
        Assert.NotNull(Envoy.Extensions.Filters.Network.Rbac.V3.RBAC.Descriptor);
        Assert.NotNull(Envoy.Extensions.Filters.Http.Router.V3.Router.Descriptor);
        Assert.NotNull(Envoy.Config.Route.V3.RouteConfiguration.Descriptor);
    }

    private static T AssertRoundTrips<T>(T message, MessageParser<T> parser)
        where T : IMessage<T>, new()
    {
        var fromBytes = parser.ParseFrom(message.ToByteArray());
        Assert.Equal(message, fromBytes);

        var json = Json.Format(message);
        var fromJson = Parser.Parse<T>(json);
        Assert.Equal(message, fromJson);
        Assert.Equal(json, Json.Format(fromJson));
        return fromBytes;
    }
}
