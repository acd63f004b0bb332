using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Cluster.Testing.Agent;

namespace Cluster.Tests.Server;

/// <summary>
/// Intentions through a client agent process: its writes reach the server, and its authorize
/// answers from its own cache, fed by a subscription to the server over gRPC.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ClientAgentIntentionsTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private AgentCluster _cluster = null!;
    private AgentProcess _client = null!;

    public async Task InitializeAsync()
    {
        _cluster = await AgentCluster.StartAsync(1);
        _client = await _cluster.StartClientAsync("ic1");
        using var members = await AgentWaits.UntilAsync(_client.Http, "/v1/agent/members", json => json.EnumerateArray().Count(m => m.GetProperty("Status").GetInt32() == 1) == 2, Timeout);
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static async Task<string> PutAsync(HttpClient http, string path, string body)
    {
        using var reply = await http.PutAsync(new Uri(path, UriKind.Relative), new StringContent(body, Encoding.UTF8));
        var text = await reply.Content.ReadAsStringAsync();
        Assert.True(reply.StatusCode == HttpStatusCode.OK, $"PUT {path}: {(int)reply.StatusCode} {text}");
        return text;
    }

    private string? _trustDomain;

    private async Task<string> TrustDomainAsync() => _trustDomain ??= await AgentWaits.TrustDomainAsync(_client.Http, TimeSpan.FromSeconds(60));

    /// <summary>The client's answer, asked again (a bounded number of times, no waiting between) until it is <paramref name="expected"/>: its cache follows the server by a subscription.</summary>
    private async Task<JsonNode> AuthorizeUntilAsync(string source, bool expected)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var reply = await _client.Http.PostAsJsonAsync(new Uri("/v1/agent/connect/authorize", UriKind.Relative), new { Target = "ca-db", ClientCertURI = $"spiffe://{await TrustDomainAsync()}/ns/default/dc/dc1/svc/{source}" });
            Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
            var body = JsonNode.Parse(await reply.Content.ReadAsStringAsync())!;
            if ((bool)body["Authorized"]! == expected || attempt == 500)
            {
                return body;
            }
        }
    }

    [Fact]
    public async Task A_client_agent_writes_intentions_and_authorizes_from_its_own_copy()
    {
        Assert.Equal("true", await PutAsync(_client.Http, "/v1/connect/intentions/exact?source=*&destination=ca-db", """{"Action": "deny"}"""));
        var check = await _client.Http.GetFromJsonAsync<JsonObject>(new Uri("/v1/connect/intentions/check?source=ca-web&destination=ca-db", UriKind.Relative));
        Assert.False((bool)check!["Allowed"]!);

        // The first authorize waits for the client's first copy, which already holds the deny.
        var denied = await AuthorizeUntilAsync("ca-web", expected: false);
        Assert.Equal("Matched L4 intention: * => ca-db (deny)", (string)denied["Reason"]!);

        // A write through the server reaches the client's copy.
        Assert.Equal("true", await PutAsync(_cluster.Servers[0].Http, "/v1/connect/intentions/exact?source=ca-web&destination=ca-db", """{"Action": "allow"}"""));
        var allowed = await AuthorizeUntilAsync("ca-web", expected: true);
        Assert.Equal("Matched L4 intention: ca-web => ca-db (allow)", (string)allowed["Reason"]!);
        Assert.False((bool)(await AuthorizeUntilAsync("ca-api", expected: false))["Authorized"]!);
    }
}
