using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Cluster.Agent.Host;
using Cluster.Server.Nodes;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Tests.Server;

/// <summary>
/// One agent as `cluster agent -dev` runs it (a single bootstrapped server, the local agent and the
/// HTTP API), in process, on loopback ports picked by the OS. A test class shares one.
/// </summary>
public sealed class HttpAgentFixture : IAsyncLifetime
{
    public const string NodeName = "t";

    private AgentHost? _host;
    private HttpClient? _client;

    public AgentHost Host => _host ?? throw new InvalidOperationException("the agent is not started");

    public HttpClient Client => _client ?? throw new InvalidOperationException("the agent is not started");

    public Uri Address => Host.Http.Addresses[0];

    public async Task InitializeAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"cluster-http-tests-{Guid.NewGuid():N}");
        _host = await AgentHost.StartAsync(
            new AgentSettings
            {
                Server = new ServerOptions { NodeName = NodeName, DataDirectory = directory, Bootstrap = true, Fsync = false, ServerPort = 0, SerfLanPort = 0 },
                HttpPort = 0,
                DnsPort = 0,
                ActorsPort = 0,
                Dev = true,
            },
            NullLoggerFactory.Instance);
        _client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };
        await WaitForLeaderAsync();
        await WaitForSelfInCatalogAsync();
        CaTrustDomain = await WaitForCaAsync();
    }

    /// <summary>The Connect CA's trust domain (made by the leader on its first pass).</summary>
    public string CaTrustDomain { get; private set; } = "";

    /// <summary>Waits (blocking queries, bounded) for the leader's first CA root; its trust domain.</summary>
    private async Task<string> WaitForCaAsync()
    {
        ulong index = 0;
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var reply = await GetAsync($"/v1/connect/ca/roots?index={index}&wait=2s");
            if (reply.Status == HttpStatusCode.OK)
            {
                return (string)reply.Json!["TrustDomain"]!;
            }

            index = reply.Index;
        }

        throw new TimeoutException("the leader never made the Connect CA");
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    /// <summary>Polls /v1/status/leader, waking on every Raft change, until a leader is known (bounded).</summary>
    private async Task WaitForLeaderAsync()
    {
        var raft = await Host.Server.RaftStarted.WaitAsync(TimeSpan.FromSeconds(15));
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var changed = raft.Changed;
            var leader = await Client.GetStringAsync(new Uri("/v1/status/leader", UriKind.Relative));
            if (leader != "\"\"")
            {
                return;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(20))
            {
                throw new TimeoutException("no leader after 20 s");
            }

            await changed.WaitAsync(TimeSpan.FromSeconds(5));
        }
    }

    /// <summary>The leader registers its own node with serfHealth; sessions need it. Waits with blocking queries (bounded).</summary>
    private async Task WaitForSelfInCatalogAsync()
    {
        ulong index = 0;
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var reply = await GetAsync($"/v1/health/node/{NodeName}?index={index}&wait=2s");
            Assert.Equal(HttpStatusCode.OK, reply.Status);
            if (reply.Json!.AsArray().Any(c => (string?)c!["CheckID"] == "serfHealth" && (string?)c["Status"] == "passing"))
            {
                return;
            }

            index = reply.Index;
        }

        throw new TimeoutException("the agent's node never appeared in the catalog with serfHealth passing");
    }

    public Task<Reply> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    public Task<Reply> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path);

    public Task<Reply> PutAsync(string path, string? body = null) =>
        SendAsync(HttpMethod.Put, path, body is null ? null : new StringContent(body, Encoding.UTF8));

    public Task<Reply> PutAsync(string path, byte[] body) => SendAsync(HttpMethod.Put, path, new ByteArrayContent(body));

    public async Task<Reply> SendAsync(HttpMethod method, string path, HttpContent? content = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = content };
        using var response = await Client.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return new Reply(response.StatusCode, body, response.Headers, response.Content.Headers);
    }

    /// <summary>The current value of a KV key (null when missing).</summary>
    public async Task<string?> KvValueAsync(string key)
    {
        var reply = await GetAsync($"/v1/kv/{key}?raw");
        return reply.Status == HttpStatusCode.NotFound ? null : reply.Text;
    }
}

/// <summary>An HTTP answer read in full.</summary>
public sealed record Reply(HttpStatusCode Status, byte[] Body, HttpResponseHeaders Headers, HttpContentHeaders ContentHeaders)
{
    public string Text => Encoding.UTF8.GetString(Body);

    public JsonNode? Json => JsonNode.Parse(Body);

    public ulong Index => ulong.Parse(Header("X-Consul-Index") ?? throw new InvalidOperationException($"no X-Consul-Index ({Status}: {Text})"), CultureInfo.InvariantCulture);

    public string? Header(string name) => Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    public override string ToString() => $"{(int)Status} {Text}";
}
