using Cluster.Testing;
using Cluster.Testing.Agent;

namespace Cluster.Tests.Server;

/// <summary>Real Consul clients (Debian's python3-consul, the npm `consul` package) against `cluster agent -dev` in its own process.</summary>
public sealed class RealClientTests : IAsyncLifetime
{
    private AgentProcess _agent = null!;

    public async Task InitializeAsync() =>
        _agent = await AgentProcess.StartAsync("dev", "-dev", "-node=dev", "-http-port=0", "-server-port=0", "-serf-lan-port=0");

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    [Fact]
    public async Task Python_consul_runs_every_scenario_against_a_dev_agent()
    {
        var (exit, stdout, stderr) = await PeerProcess.RunAsync(
            "/usr/bin/python3",
            [Path.Combine(PeerProcess.RepoRoot, "tests", "clients", "python_consul_test.py"), "127.0.0.1", _agent.HttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            TimeSpan.FromMinutes(2));
        Assert.True(exit == 0, $"python3-consul failed ({exit}):\n{stdout}\n{stderr}\n--- agent ---\n{_agent.Output}");
        Assert.Contains("all scenarios passed", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Npm_consul_runs_every_scenario_against_a_dev_agent()
    {
        var (exit, stdout, stderr) = await PeerProcess.RunAsync(
            "node",
            [Path.Combine(PeerProcess.RepoRoot, "node", "clients", "consul-client.mjs"), "127.0.0.1", _agent.HttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            TimeSpan.FromMinutes(2),
            Path.Combine(PeerProcess.RepoRoot, "node"));
        Assert.True(exit == 0, $"npm consul failed ({exit}):\n{stdout}\n{stderr}\n--- agent ---\n{_agent.Output}");
        Assert.Contains("all scenarios passed", stdout, StringComparison.Ordinal);
    }
}
