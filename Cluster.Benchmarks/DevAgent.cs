using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Cluster.Server.Connect;
using Cluster.Testing.Agent;
using Grpc.Net.Client;

namespace Cluster.Benchmarks;

/// <summary>
/// One `cluster agent -dev` process for the Connect benchmarks (Release build, log level warn),
/// on ports chosen here so the benchmark can reach its server RPC port (gRPC) as well as its
/// HTTP API; and the helpers those benchmarks share: the CA's configuration by HTTP, a process's
/// CPU time, a service's CSR as an agent makes it.
/// </summary>
internal sealed class DevAgent : IAsyncDisposable
{
    private DevAgent(AgentProcess process, int serverPort, int serfPort)
    {
        Process = process;
        ServerPort = serverPort;
        SerfLanPort = serfPort;
    }

    public AgentProcess Process { get; }

    public int ServerPort { get; }

    public int SerfLanPort { get; }

    public HttpClient Http => Process.Http;

    public static async Task<DevAgent> StartAsync(string name)
    {
        var ports = AgentProcess.FreePorts(3);
        var process = await AgentProcess.StartAsync(
            name,
            "-dev",
            $"-node={name}",
            $"-http-port={ports[0]}",
            $"-server-port={ports[1]}",
            $"-serf-lan-port={ports[2]}",
            "-dns-port=-1",
            "-log-level=warn");
        var agent = new DevAgent(process, ports[1], ports[2]);
        await agent.CaAsync(TimeSpan.FromSeconds(60)); // the leader has made the CA
        return agent;
    }

    /// <summary>A gRPC channel to the server RPC port, as a client agent's (h2c, several HTTP/2 connections when one is full).</summary>
    public GrpcChannel Channel() => GrpcChannel.ForAddress(new Uri($"http://127.0.0.1:{ServerPort}"), new GrpcChannelOptions
    {
        MaxReceiveMessageSize = 64 << 20,
        HttpHandler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            UseProxy = false,
        },
    });

    /// <summary>GET /v1/connect/ca/roots, waiting (bounded) until the CA exists.</summary>
    public async Task<JsonObject> CaAsync(TimeSpan wait)
    {
        var until = DateTime.UtcNow + wait;
        while (true)
        {
            using var response = await Http.GetAsync("/v1/connect/ca/roots");
            if (response.IsSuccessStatusCode)
            {
                return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            }

            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"no Connect CA after {wait}: {response.StatusCode}\n{Process.Output}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>PUT /v1/connect/ca/configuration with the built-in provider and <paramref name="config"/> (a PUT replaces the whole configuration).</summary>
    public async Task ConfigureCaAsync(JsonObject config)
    {
        var body = new JsonObject { ["Provider"] = "consul", ["Config"] = config }.ToJsonString();
        using var response = await Http.PutAsync("/v1/connect/ca/configuration", new StringContent(body, Encoding.UTF8, "application/json"));
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"PUT /v1/connect/ca/configuration {body}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    public TimeSpan CpuTime() => CpuTimeOf(Process.Pid);

    public static TimeSpan CpuTimeOf(int pid)
    {
        using var process = System.Diagnostics.Process.GetProcessById(pid);
        return process.TotalProcessorTime;
    }

    public static TimeSpan OwnCpuTime()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    /// <summary>A service's CSR as the agent's leaf cache makes it (a fresh P-256 key, one SPIFFE URI SAN).</summary>
    public static string Csr(SpiffeId id)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={id.Service}"), key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(id.ToUri());
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSigningRequestPem();
    }

    /// <summary>A positive 128-bit serial, as the leader makes one per leaf.</summary>
    public static byte[] Serial()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x01);
        return serial;
    }

    /// <summary>`openssl speed -seconds S ecdsap256`: its single-thread sign/s and verify/s.</summary>
    public static async Task<(double Sign, double Verify)> OpensslSpeedAsync(int seconds)
    {
        var (exit, stdout, stderr) = await Testing.PeerProcess.RunAsync("openssl", ["speed", "-seconds", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "ecdsap256"], TimeSpan.FromSeconds((seconds * 4) + 30));
        if (exit != 0)
        {
            throw new InvalidOperationException($"openssl speed failed: {stderr}");
        }

        var line = stdout.Split('\n').Last(l => l.Contains("nistp256", StringComparison.Ordinal));
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (double.Parse(fields[^2], System.Globalization.CultureInfo.InvariantCulture), double.Parse(fields[^1], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The trust domain and datacenter leaves of this agent's CA are named in.</summary>
    public async Task<string> TrustDomainAsync() => (string)(await CaAsync(TimeSpan.FromSeconds(10)))["TrustDomain"]!;

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    /// <summary>Elapsed wall time and CPU of this process and of the agent over one measured stretch.</summary>
    public sealed class CpuWindow(DevAgent? agent)
    {
        private readonly long _start = Stopwatch.GetTimestamp();
        private readonly TimeSpan _own = OwnCpuTime();
        private readonly TimeSpan _agent = agent?.CpuTime() ?? TimeSpan.Zero;

        public (TimeSpan Wall, TimeSpan OwnCpu, TimeSpan AgentCpu) Stop() =>
            (Stopwatch.GetElapsedTime(_start), OwnCpuTime() - _own, agent is null ? TimeSpan.Zero : agent.CpuTime() - _agent);
    }
}
