using System.Text.Json.Nodes;
using Cluster.Testing;
using Cluster.Testing.Agent;

namespace Cluster.Tests.Server;

/// <summary>The built `cluster connect ca` CLI against `cluster agent -dev` in its own process.</summary>
[Trait("Category", "Integration")]
public sealed class ConnectCaProcessTests(DevAgentFixture fixture) : IClassFixture<DevAgentFixture>, IDisposable
{
    private readonly AgentProcess _agent = fixture.Agent;
    private readonly string _directory = Directory.CreateTempSubdirectory("cluster-ca-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<(int Exit, string Stdout, string Stderr)> CliAsync(string verb, params string[] args) =>
        await PeerProcess.RunAsync("dotnet", [PeerProcess.BuiltDll("Cluster.Cli", "cluster"), "connect", "ca", verb, $"-http-addr=127.0.0.1:{_agent.HttpPort}", .. args], TimeSpan.FromSeconds(60));

    private async Task<string> LeafCertTtlAsync()
    {
        var (exit, stdout, stderr) = await CliAsync("get-config");
        Assert.True(exit == 0, $"get-config failed ({exit}): {stderr}");
        Assert.StartsWith("{\n\t\"Provider\": \"consul\",\n\t\"Config\": {\n", stdout, StringComparison.Ordinal);
        return (string)JsonNode.Parse(stdout)!["Config"]!["LeafCertTTL"]!;
    }

    private async Task<(int Exit, string Stdout, string Stderr)> SetAsync(string name, string json)
    {
        var file = Path.Combine(_directory, name);
        await File.WriteAllTextAsync(file, json);
        return await CliAsync("set-config", "-config-file", file);
    }

    // All the CA changes are in this one test, which puts the default back: the fixture's agent is shared.
    [Fact]
    public async Task Get_config_and_set_config_change_the_leaf_ttl_of_a_dev_agent()
    {
        await AgentWaits.TrustDomainAsync(_agent.Http, TimeSpan.FromSeconds(60));
        Assert.Equal("72h0m0s", await LeafCertTtlAsync());

        Assert.Equal((0, "Configuration updated!\n", ""), await SetAsync("day.json", """{"Provider":"consul","Config":{"LeafCertTTL":"24h"}}"""));
        Assert.Equal("24h0m0s", await LeafCertTtlAsync());

        var (exit, stdout, stderr) = await SetAsync("year.json", """{"Provider":"consul","Config":{"LeafCertTTL":"9000h"}}""");
        Assert.Equal((1, ""), (exit, stdout));
        Assert.StartsWith("Error setting CA configuration: Unexpected response code: 400 (", stderr, StringComparison.Ordinal);
        Assert.Contains("LeafCertTTL 9000h0m0s is out of range", stderr, StringComparison.Ordinal);
        Assert.Equal("24h0m0s", await LeafCertTtlAsync());

        Assert.Equal((0, "Configuration updated!\n", ""), await SetAsync("default.json", """{"Provider":"consul","Config":{"LeafCertTTL":"72h"}}"""));
        Assert.Equal("72h0m0s", await LeafCertTtlAsync());
    }
}
