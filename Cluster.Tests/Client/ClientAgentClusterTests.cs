using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Cluster.Testing;
using Cluster.Testing.Agent;

namespace Cluster.Tests.Client;

/// <summary>
/// Three servers and three client agents as separate processes on loopback, as the README's
/// commands start them: the clients join through gossip, find the servers, serve the HTTP API
/// (agent endpoints locally, the rest through a server), and keep the catalog true.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ClientAgentClusterTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private AgentCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await AgentCluster.StartAsync(3);
        for (var i = 1; i <= 3; i++)
        {
            var name = $"c{i}";
            var dir = _cluster.DirectoryOf(name);
            Directory.CreateDirectory(dir);
            var config = Path.Combine(dir, "service.hcl");
            await File.WriteAllTextAsync(config, $$"""
                service {
                  name = "app{{i}}"
                  id   = "app{{i}}"
                  port = {{8080 + i}}
                  tags = ["v{{i}}"]
                }
                """);
            await _cluster.StartClientAsync(name, $"-config-file={config}");
        }
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private IEnumerable<AgentProcess> Everyone => _cluster.Servers.Concat(_cluster.Clients);

    [Fact]
    public async Task Clients_join_serve_the_api_fail_over_and_keep_the_catalog_true()
    {
        // Every node sees all six members alive, with their roles.
        foreach (var agent in Everyone)
        {
            using var members = await AgentWaits.UntilAsync(agent.Http, "/v1/agent/members", json => json.EnumerateArray().Count(m => m.GetProperty("Status").GetInt32() == 1) == 6, Timeout);
            var roles = members.RootElement.EnumerateArray().ToDictionary(m => m.GetProperty("Name").GetString()!, m => m.GetProperty("Tags").GetProperty("role").GetString());
            Assert.All(roles, role => Assert.Equal(role.Key[0] == 's' ? "consul" : "node", role.Value));
        }

        // `cluster members` from a client lists them all.
        var (exit, stdout, stderr) = await PeerProcess.RunAsync(
            "dotnet",
            [PeerProcess.BuiltDll("Cluster.Cli", "cluster"), "members", $"-http-addr=127.0.0.1:{_cluster.Clients[1].HttpPort}"],
            TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, stderr);
        foreach (var name in new[] { "s1", "s2", "s3", "c1", "c2", "c3" })
        {
            Assert.Matches($@"(?m)^{name}\s+127\.0\.0\.1:\d+\s+alive\s+{(name[0] == 's' ? "server" : "client")}", stdout);
        }

        // Each client's configured service reaches the catalog, healthy, and is read through any agent.
        foreach (var agent in Everyone)
        {
            using var healthy = await AgentWaits.UntilAsync(agent.Http, "/v1/health/service/app3?passing", json => json.GetArrayLength() == 1, Timeout);
            Assert.Equal("c3", healthy.RootElement[0].GetProperty("Node").GetProperty("Node").GetString());
        }

        // `dig` against any agent, server or client, answers the client's service (SRV with the node's A as glue).
        foreach (var agent in Everyone)
        {
            var srv = await DigAsync(agent, "app3.service.consul", "SRV");
            Assert.Matches(@"app3\.service\.consul\.\s+0\s+IN\s+SRV\s+1\s+1\s+8083\s+c3\.node\.dc1\.consul\.", srv);
            Assert.Matches(@"c3\.node\.dc1\.consul\.\s+0\s+IN\s+A\s+127\.0\.0\.1", srv);
            Assert.Contains("127.0.0.1", await DigAsync(agent, "c1.node.consul", "A", "+short"), StringComparison.Ordinal);
            Assert.Contains("v2.app2.service.consul", await DigAsync(agent, "v2.app2.service.consul", "A"), StringComparison.Ordinal);
        }

        // A service registered on a client with a TTL check: its status travels to the catalog.
        var c2 = _cluster.Clients[1];
        await PutAsync(c2, "/v1/agent/service/register", """{"Name":"cache","ID":"cache1","Port":6379,"Check":{"TTL":"30s"}}""");
        await PutAsync(c2, "/v1/agent/check/pass/service:cache1", "");
        using (var cache = await AgentWaits.UntilAsync(_cluster.Servers[0].Http, "/v1/health/service/cache?passing", json => json.GetArrayLength() == 1, Timeout))
        {
            Assert.Equal("c2", cache.RootElement[0].GetProperty("Node").GetProperty("Node").GetString());
        }

        // The real Consul clients run every scenario against a client agent.
        var python = PeerProcess.RunAsync(
            "/usr/bin/python3",
            [Path.Combine(PeerProcess.RepoRoot, "clients", "python_consul_test.py"), "127.0.0.1", c2.HttpPort.ToString(CultureInfo.InvariantCulture)],
            TimeSpan.FromMinutes(3));
        var npm = PeerProcess.RunAsync(
            "node",
            [Path.Combine(PeerProcess.RepoRoot, "node", "clients", "consul-client.mjs"), "127.0.0.1", _cluster.Clients[0].HttpPort.ToString(CultureInfo.InvariantCulture)],
            TimeSpan.FromMinutes(3),
            Path.Combine(PeerProcess.RepoRoot, "node"));
        var (pyExit, pyOut, pyErr) = await python;
        var (jsExit, jsOut, jsErr) = await npm;
        Assert.True(pyExit == 0, $"python3-consul against client c2 failed ({pyExit}):\n{pyOut}\n{pyErr}\n--- agent ---\n{c2.Output}");
        Assert.True(jsExit == 0, $"npm consul against client c1 failed ({jsExit}):\n{jsOut}\n{jsErr}\n--- agent ---\n{_cluster.Clients[0].Output}");

        // Writes and reads through a client agent, blocking queries included.
        await PutAsync(_cluster.Clients[0], "/v1/kv/through/client", "v1");
        Assert.Equal("v1", await GetAsync(_cluster.Clients[2], "/v1/kv/through/client?raw"));

        // Status and operator endpoints answer on a client as on a server (through a server's RPC).
        var client1 = _cluster.Clients[0];
        Assert.Equal(await GetAsync(_cluster.Servers[0], "/v1/status/leader"), await GetAsync(client1, "/v1/status/leader"));
        using (var peers = JsonDocument.Parse(await GetAsync(client1, "/v1/status/peers")))
        {
            Assert.Equal(3, peers.RootElement.GetArrayLength());
        }

        using (var raft = JsonDocument.Parse(await GetAsync(client1, "/v1/operator/raft/configuration")))
        {
            Assert.Equal(["s1", "s2", "s3"], raft.RootElement.GetProperty("Servers").EnumerateArray().Select(s => s.GetProperty("Node").GetString()).Order());
            Assert.Single(raft.RootElement.GetProperty("Servers").EnumerateArray(), s => s.GetProperty("Leader").GetBoolean());
        }

        using (var unknown = await client1.Http.DeleteAsync("/v1/operator/raft/peer?address=127.0.0.1:1"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
            Assert.Contains("address \"127.0.0.1:1\" was not found in the Raft configuration", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // A killed client's services go critical (its serfHealth fails in gossip).
        await _cluster.Clients[2].KillAsync();
        using (var down = await AgentWaits.UntilAsync(
            _cluster.Servers[1].Http,
            "/v1/health/node/c3",
            json => json.EnumerateArray().Any(c => c.GetProperty("CheckID").GetString() == "serfHealth" && c.GetProperty("Status").GetString() == "critical"),
            Timeout))
        {
        }

        using (var none = await AgentWaits.UntilAsync(_cluster.Clients[0].Http, "/v1/health/service/app3?passing", json => json.GetArrayLength() == 0, Timeout))
        {
        }

        Assert.Equal("", (await DigAsync(_cluster.Clients[0], "app3.service.consul", "A", "+short")).Trim()); // out of rotation

        // A killed server changes nothing a client's applications see: every request through the client still answers.
        var leader = await _cluster.LeaderAsync(Timeout);
        var follower = _cluster.Servers.First(s => s != leader);
        await follower.KillAsync();
        var c1 = _cluster.Clients[0];
        for (var i = 0; i < 20; i++)
        {
            await PutAsync(c1, $"/v1/kv/after-kill/{i}", $"value{i}");
            Assert.Equal($"value{i}", await GetAsync(c1, $"/v1/kv/after-kill/{i}?raw"));
            using var services = JsonDocument.Parse(await GetAsync(c1, "/v1/catalog/services"));
            Assert.True(services.RootElement.TryGetProperty("app1", out _));
        }

        await follower.RestartAsync();
        await _cluster.WaitForServersAsync(3, Timeout);

        // A client restarted with the same data dir comes back as the same node, without duplicates,
        // with its configured service and the one registered through its API (kept in the data dir).
        await PutAsync(c1, "/v1/agent/service/register", """{"Name":"api","ID":"api1","Port":9000,"Check":{"TTL":"60s"}}""");
        var before = await NodeIdAsync(_cluster.Servers[0], "c1");
        await c1.RestartAsync();

        // The five that are up, by name: a count would also take c3, which a member that has just
        // (re)learned the pool lists as alive-but-suspect until its suspicion runs out.
        string[] up = ["c1", "c2", "s1", "s2", "s3"];
        using (var back = await AgentWaits.UntilAsync(c1.Http, "/v1/agent/members", json => up.All(name => json.EnumerateArray().Any(m => m.GetProperty("Name").GetString() == name && m.GetProperty("Status").GetInt32() == 1)), Timeout))
        {
        }

        using (var c1Services = await AgentWaits.UntilAsync(_cluster.Servers[0].Http, "/v1/catalog/node-services/c1?stale", json => json.GetProperty("Services").GetArrayLength() == 2, Timeout))
        {
            Assert.Equal(["api1", "app1"], c1Services.RootElement.GetProperty("Services").EnumerateArray().Select(e => e.GetProperty("ID").GetString()!).Order(StringComparer.Ordinal));
        }

        using (var checks = JsonDocument.Parse(await GetAsync(c1, "/v1/agent/checks")))
        {
            Assert.True(checks.RootElement.TryGetProperty("service:api1", out _));
        }

        Assert.Equal(before, await NodeIdAsync(_cluster.Servers[0], "c1"));
        using var instances = JsonDocument.Parse(await GetAsync(_cluster.Servers[0], "/v1/catalog/service/app1?stale"));
        Assert.Equal(1, instances.RootElement.GetArrayLength());
    }

    private static async Task<string> DigAsync(AgentProcess agent, params string[] args)
    {
        var (exit, stdout, stderr) = await PeerProcess.RunAsync(
            "dig",
            ["-p", agent.DnsPort.ToString(CultureInfo.InvariantCulture), "@127.0.0.1", "+time=2", "+tries=1", .. args],
            TimeSpan.FromSeconds(30));
        Assert.True(exit == 0, $"dig {string.Join(' ', args)} on {agent.Name} failed ({exit}):\n{stdout}\n{stderr}\n--- agent ---\n{agent.Output}");
        return stdout;
    }

    private static async Task<string?> NodeIdAsync(AgentProcess agent, string node)
    {
        using var json = JsonDocument.Parse(await GetAsync(agent, $"/v1/catalog/node/{node}?stale"));
        return json.RootElement.GetProperty("Node").GetProperty("ID").GetString();
    }

    private static async Task<string> GetAsync(AgentProcess agent, string path)
    {
        using var response = await agent.Http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path} on {agent.Name}: {(int)response.StatusCode} {body}\n{agent.Output}");
        return body;
    }

    private static async Task PutAsync(AgentProcess agent, string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8);
        using var response = await agent.Http.PutAsync(path, content);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"PUT {path} on {agent.Name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}\n{agent.Output}");
    }
}
