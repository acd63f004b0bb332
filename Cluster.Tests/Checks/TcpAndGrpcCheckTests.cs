using System.Net;
using System.Net.Sockets;
using Cluster.Agent.Checks;
using Cluster.Agent.Config;
using Cluster.Server.Rpc;
using Cluster.Testing;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Tests.Checks;

/// <summary>TCP checks against a real listener; gRPC checks against our gRPC host serving the standard health protocol.</summary>
public sealed class TcpAndGrpcCheckTests
{
    private static async Task<CheckResult> RunOnceAsync(CheckDefinition definition)
    {
        using var factory = new CheckMonitorFactory(new CheckOptions());
        using var probe = factory.CreateProbe(definition);
        return await probe.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
    }

    private static CheckDefinition Tcp(string target) => new() { Name = "db", Tcp = target, Interval = TimeSpan.FromSeconds(10) };

    private static CheckDefinition Grpc(string target) => new() { Name = "rpc", Grpc = target, Interval = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task Tcp_is_passing_when_the_port_accepts()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var target = $"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";

        Assert.Equal(CheckResult.Passing($"TCP connect {target}: Success"), await RunOnceAsync(Tcp(target)));
    }

    [Fact]
    public async Task Tcp_is_critical_with_the_error_when_nothing_listens()
    {
        var target = $"127.0.0.1:{Loopback.ClosedPort()}";

        Assert.Equal(CheckResult.Critical($"TCP connect {target}: Connection refused"), await RunOnceAsync(Tcp(target)));
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("localhost:0")]
    [InlineData(":80")]
    [InlineData("host:http")]
    public void Tcp_targets_must_be_host_and_port(string target)
    {
        using var factory = new CheckMonitorFactory(new CheckOptions());
        var error = Assert.Throws<InvalidCheckException>(() => factory.Create(Tcp(target), _ => { }));
        Assert.Equal($"Check db: tcp must be host:port, not \"{target}\"", error.Message);
    }

    [Fact]
    public async Task Grpc_asks_the_health_service_for_the_server_or_the_named_service()
    {
        var asked = new List<string>();
        await using var server = await StartHealthServerAsync(asked);
        var address = $"127.0.0.1:{server.Addresses[0].Port}";

        Assert.Equal(CheckResult.Passing($"gRPC check {address}: success"), await RunOnceAsync(Grpc(address)));
        Assert.Equal(CheckResult.Passing($"gRPC check {address}/web: success"), await RunOnceAsync(Grpc($"{address}/web")));
        Assert.Equal(CheckResult.Critical($"gRPC check {address}/db: failed: status NOT_SERVING"), await RunOnceAsync(Grpc($"{address}/db")));
        Assert.Equal(CheckResult.Critical($"gRPC check {address}/nope: failed: NotFound: unknown service"), await RunOnceAsync(Grpc($"{address}/nope")));
        Assert.Equal(["", "web", "db", "nope"], asked);
    }

    [Fact]
    public async Task Grpc_over_tls_with_skip_verify_reaches_a_self_signed_server()
    {
        using var certificate = TestCertificates.CreateSelfSigned();
        await using var server = await StartHealthServerAsync([], certificate);
        var address = $"127.0.0.1:{server.Addresses[0].Port}";

        var result = await RunOnceAsync(Grpc(address) with { GrpcUseTls = true, TlsSkipVerify = true });

        Assert.Equal(CheckResult.Passing($"gRPC check {address}: success"), result);
    }

    [Fact]
    public async Task Grpc_is_critical_when_nothing_listens()
    {
        var address = $"127.0.0.1:{Loopback.ClosedPort()}";

        var result = await RunOnceAsync(Grpc(address));

        Assert.Equal(CheckStatus.Critical, result.Status);
        Assert.StartsWith($"gRPC check {address}: failed: Unavailable", result.Output, StringComparison.Ordinal);
    }

    private static Task<GrpcHost> StartHealthServerAsync(List<string> asked, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null) =>
        GrpcHost.StartAsync(
            new GrpcHostOptions { Endpoints = [new IPEndPoint(IPAddress.Loopback, 0)], Certificate = certificate },
            services => services.AddSingleton(new RecordingHealth(asked)),
            endpoints => endpoints.MapGrpcService<RecordingHealth>());

    /// <summary>The health service a gRPC server implements: "" and "web" serving, "db" not, anything else unknown.</summary>
    private sealed class RecordingHealth(List<string> asked) : Health.HealthBase
    {
        public override Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context)
        {
            lock (asked)
            {
                asked.Add(request.Service);
            }

            return request.Service switch
            {
                "" or "web" => Task.FromResult(new HealthCheckResponse { Status = HealthCheckResponse.Types.ServingStatus.Serving }),
                "db" => Task.FromResult(new HealthCheckResponse { Status = HealthCheckResponse.Types.ServingStatus.NotServing }),
                _ => throw new RpcException(new Status(StatusCode.NotFound, "unknown service")),
            };
        }
    }
}
