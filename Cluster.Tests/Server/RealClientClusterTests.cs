using System.Globalization;
using Cluster.Testing;
using Cluster.Testing.Agent;

namespace Cluster.Tests.Server;

/// <summary>The same real clients against followers of a three-server cluster (writes forwarded to the leader, reads in every consistency mode).</summary>
[Trait("Category", "Integration")]
public sealed class RealClientClusterTests : IAsyncLifetime
{
    private AgentCluster _cluster = null!;
    private AgentProcess _leader = null!;

    public async Task InitializeAsync()
    {
        _cluster = await AgentCluster.StartAsync(3);
        _leader = await _cluster.LeaderAsync(TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Python_consul_and_npm_consul_run_every_scenario_against_followers()
    {
        var followers = _cluster.Servers.Where(s => s != _leader).ToList();
        var python = PeerProcess.RunAsync(
            "/usr/bin/python3",
            [Path.Combine(PeerProcess.RepoRoot, "clients", "python_consul_test.py"), "127.0.0.1", followers[0].HttpPort.ToString(CultureInfo.InvariantCulture)],
            TimeSpan.FromMinutes(3));
        var npm = PeerProcess.RunAsync(
            "node",
            [Path.Combine(PeerProcess.RepoRoot, "node", "clients", "consul-client.mjs"), "127.0.0.1", followers[1].HttpPort.ToString(CultureInfo.InvariantCulture)],
            TimeSpan.FromMinutes(3),
            Path.Combine(PeerProcess.RepoRoot, "node"));
        var (pyExit, pyOut, pyErr) = await python;
        var (jsExit, jsOut, jsErr) = await npm;
        Assert.True(pyExit == 0, $"python3-consul against {followers[0].Name} failed ({pyExit}):\n{pyOut}\n{pyErr}\n--- agent ---\n{followers[0].Output}");
        Assert.True(jsExit == 0, $"npm consul against {followers[1].Name} failed ({jsExit}):\n{jsOut}\n{jsErr}\n--- agent ---\n{followers[1].Output}");
    }
}
