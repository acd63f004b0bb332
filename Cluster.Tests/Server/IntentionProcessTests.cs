using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Cluster.Testing;
using Cluster.Testing.Agent;

namespace Cluster.Tests.Server;

/// <summary>The built `cluster intention` CLI and /v1/agent/connect/authorize against `cluster agent -dev` in its own process.</summary>
[Trait("Category", "Integration")]
public sealed class IntentionProcessTests(DevAgentFixture fixture) : IClassFixture<DevAgentFixture>
{
    private readonly AgentProcess _agent = fixture.Agent;

    /// <summary>Runs <c>cluster intention VERB -http-addr=… ARGS</c> (flags before arguments, as Go's flag package wants them).</summary>
    private async Task<(int Exit, string Stdout, string Stderr)> CliAsync(string verb, params string[] args) =>
        await PeerProcess.RunAsync("dotnet", [PeerProcess.BuiltDll("Cluster.Cli", "cluster"), "intention", verb, $"-http-addr=127.0.0.1:{_agent.HttpPort}", .. args], TimeSpan.FromSeconds(60));

    private string? _trustDomain;

    private async Task<string> TrustDomainAsync() => _trustDomain ??= await AgentWaits.TrustDomainAsync(_agent.Http, TimeSpan.FromSeconds(60));

    /// <summary>
    /// The agent's answer for a client certificate of <paramref name="source"/> connecting to
    /// <paramref name="target"/>, asked again until it is <paramref name="expected"/> (a bounded
    /// number of times): the agent's cache follows a write by a subscription, so it may lag the
    /// write by an event; each retry is one more request, with no waiting in between.
    /// </summary>
    private async Task<JsonNode> AuthorizeUntilAsync(string source, string target, bool expected)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var reply = await _agent.Http.PostAsJsonAsync(new Uri("/v1/agent/connect/authorize", UriKind.Relative), new { Target = target, ClientCertURI = $"spiffe://{await TrustDomainAsync()}/ns/default/dc/dc1/svc/{source}" });
            var body = JsonNode.Parse(await reply.Content.ReadAsStringAsync())!;
            if ((bool)body["Authorized"]! == expected || attempt == 500)
            {
                return body;
            }
        }
    }

    [Fact]
    public async Task The_intention_commands_and_authorize_work_against_a_dev_agent()
    {
        Assert.Equal((0, "Created: p-web => p-db (allow)\n", ""), await CliAsync("create", "p-web", "p-db"));
        Assert.Equal((0, "Allowed\n", ""), await CliAsync("check", "p-web", "p-db"));
        Assert.True((bool)(await AuthorizeUntilAsync("p-web", "p-db", expected: true))["Authorized"]!);

        Assert.Equal((0, "", ""), await CliAsync("create", "-deny", "-replace", "p-web", "p-db"));
        Assert.Equal((1, "Denied\n", ""), await CliAsync("check", "p-web", "p-db"));
        var denied = await AuthorizeUntilAsync("p-web", "p-db", expected: false);
        Assert.Equal("Matched L4 intention: p-web => p-db (deny)", (string)denied["Reason"]!);

        var list = await CliAsync("list");
        Assert.Equal(0, list.Exit);
        Assert.Matches(@"(?m)^[0-9a-f-]{36}  p-web   deny    p-db         9$", list.Stdout);
        Assert.Equal((0, "p-web => p-db (deny)\n", ""), await CliAsync("match", "p-db"));
        var get = await CliAsync("get", "p-web", "p-db");
        Assert.Contains("Action:       deny\n", get.Stdout, StringComparison.Ordinal);

        Assert.Equal((0, "Intention deleted.\n", ""), await CliAsync("delete", "p-web", "p-db"));
        Assert.Equal((2, "", "There are no intentions.\n"), await CliAsync("list"));
        Assert.True((bool)(await AuthorizeUntilAsync("p-web", "p-db", expected: true))["Authorized"]!);
    }
}
