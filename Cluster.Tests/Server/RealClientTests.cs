using Cluster.Testing;
using Cluster.Testing.Agent;

namespace Cluster.Tests.Server;

/// <summary>One `cluster agent -dev` process shared by the tests of a class.</summary>
public sealed class DevAgentFixture : IAsyncLifetime
{
    public AgentProcess Agent { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Agent = await AgentProcess.StartAsync("dev", "-dev", "-node=dev", "-http-port=0", "-server-port=0", "-serf-lan-port=0");

    public async Task DisposeAsync() => await Agent.DisposeAsync();
}

/// <summary>Real Consul clients (Debian's python3-consul, the npm `consul` package, our CLI) against `cluster agent -dev` in its own process.</summary>
[Trait("Category", "Integration")]
public sealed class RealClientTests(DevAgentFixture fixture) : IClassFixture<DevAgentFixture>
{
    private readonly AgentProcess _agent = fixture.Agent;

    [Fact]
    public async Task Python_consul_runs_every_scenario_against_a_dev_agent()
    {
        var (exit, stdout, stderr) = await PeerProcess.RunAsync(
            "/usr/bin/python3",
            [Path.Combine(PeerProcess.RepoRoot, "clients", "python_consul_test.py"), "127.0.0.1", _agent.HttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture)],
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

    [Fact]
    public async Task The_cluster_cli_talks_to_the_dev_agent()
    {
        var address = $"-http-addr=127.0.0.1:{_agent.HttpPort}";
        async Task<(int Exit, string Stdout, string Stderr)> Cli(params string[] args) =>
            await PeerProcess.RunAsync("dotnet", [PeerProcess.BuiltDll("Cluster.Cli", "cluster"), .. args], TimeSpan.FromSeconds(60));

        Assert.Equal((0, "Success! Data written to: cli/greeting\n", ""), await Cli("kv", "put", address, "cli/greeting", "hello"));
        Assert.Equal((0, "hello\n", ""), await Cli("kv", "get", address, "cli/greeting"));
        var missing = await Cli("kv", "get", address, "cli/missing");
        Assert.Equal(1, missing.Exit);
        Assert.Contains("No key exists at: cli/missing", missing.Stderr, StringComparison.Ordinal);

        var members = await Cli("members", address);
        Assert.Equal(0, members.Exit);
        Assert.Matches(@"(?m)^dev\s+127\.0\.0\.1:\d+\s+alive\s+server", members.Stdout);

        var peers = await Cli("operator", "raft", "list-peers", address);
        Assert.Equal(0, peers.Exit);
        Assert.Matches(@"(?m)^dev\s+\S+\s+127\.0\.0\.1:\d+\s+leader\s+true", peers.Stdout);

        var services = await Cli("catalog", "services", address);
        Assert.Equal((0, "consul\n"), (services.Exit, services.Stdout));
    }
}
