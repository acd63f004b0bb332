using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Cluster.Server.Connect;
using Cluster.Testing.Agent;

namespace Cluster.Tests.Connect;

/// <summary>Three server processes and two client agents on loopback, for the Connect CA and intentions end to end.</summary>
public sealed class ConnectClusterFixture : IAsyncLifetime
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    public AgentCluster Cluster { get; private set; } = null!;

    public AgentProcess C1 { get; private set; } = null!;

    public AgentProcess C2 { get; private set; } = null!;

    public string TrustDomain { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Cluster = await AgentCluster.StartAsync(3);
        C1 = await Cluster.StartClientAsync("c1");
        C2 = await Cluster.StartClientAsync("c2");
        foreach (var client in new[] { C1, C2 })
        {
            using var _ = await AgentWaits.UntilAsync(client.Http, "/v1/agent/members", json => json.EnumerateArray().Count(m => m.GetProperty("Status").GetInt32() == 1) == 5, Timeout);
        }

        TrustDomain = await AgentWaits.TrustDomainAsync(C1.Http, Timeout);
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>
/// Leaves and authorize served by client agents, a leader SIGKILLed while clients sign, and a
/// root rotation under the live cluster, checked at every change the agents show: no moment
/// where one service's leaf would fail the other's verification.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ConnectClusterTests(ConnectClusterFixture fixture) : IClassFixture<ConnectClusterFixture>
{
    private static readonly TimeSpan Timeout = ConnectClusterFixture.Timeout;

    private SpiffeId Id(string service) => new(fixture.TrustDomain, "default", "dc1", service);

    private static async Task<(JsonObject Json, ulong Index)> GetAsync(AgentProcess agent, string path, CancellationToken cancellationToken = default)
    {
        using var reply = await agent.Http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
        var text = await reply.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(reply.StatusCode == HttpStatusCode.OK, $"GET {path} on {agent.Name}: {(int)reply.StatusCode} {text}");
        var index = reply.Headers.TryGetValues("X-Consul-Index", out var values) ? ulong.Parse(values.First(), CultureInfo.InvariantCulture) : 0;
        return (JsonNode.Parse(text)!.AsObject(), index);
    }

    private static async Task PutAsync(AgentProcess agent, string path, string body)
    {
        using var reply = await agent.Http.PutAsync(new Uri(path, UriKind.Relative), new StringContent(body, Encoding.UTF8));
        Assert.True(reply.StatusCode == HttpStatusCode.OK, $"PUT {path} on {agent.Name}: {(int)reply.StatusCode} {await reply.Content.ReadAsStringAsync()}");
    }

    private static string[] RootPems(JsonObject roots) => [.. roots["Roots"]!.AsArray().Select(r => (string)r!["RootCert"]!)];

    private static string Pem(JsonObject leaf) => (string)leaf["CertPEM"]!;

    [Fact]
    public async Task Client_agents_serve_leaves_that_verify_across_agents_and_authorize_from_their_own_intentions()
    {
        await PutAsync(fixture.C1, "/v1/connect/intentions/exact?source=*&destination=ax-db", """{"Action": "deny"}""");
        await PutAsync(fixture.C1, "/v1/connect/intentions/exact?source=ax-web&destination=ax-db", """{"Action": "allow"}""");
        var (web, _) = await GetAsync(fixture.C1, "/v1/agent/connect/ca/leaf/ax-web");
        var (db, _) = await GetAsync(fixture.C2, "/v1/agent/connect/ca/leaf/ax-db");
        var (rootsOnC1, _) = await GetAsync(fixture.C1, "/v1/agent/connect/ca/roots");
        var (rootsOnC2, _) = await GetAsync(fixture.C2, "/v1/agent/connect/ca/roots");

        Assert.Equal(Id("ax-web").ToString(), (string)web["ServiceURI"]!);
        Assert.Contains("PRIVATE KEY", (string)web["PrivateKeyPEM"]!, StringComparison.Ordinal);
        var now = DateTimeOffset.UtcNow;
        Assert.True(PeerCertificate.Verify(Pem(web), RootPems(rootsOnC2), Id("ax-web"), now).Trusted); // db's side of a connection from web
        Assert.True(PeerCertificate.Verify(Pem(db), RootPems(rootsOnC1), Id("ax-db"), now).Trusted); // and web's side
        Assert.False(PeerCertificate.Verify(Pem(db), RootPems(rootsOnC1), Id("ax-web"), now).Trusted);
        Assert.Equal("OK", Openssl.Verify(string.Concat(RootPems(rootsOnC2)), Pem(web), null, now));

        // The client answers authorize for a certificate's URI from its own copy of the intentions.
        Assert.True(await AuthorizeUntilAsync(fixture.C2, "ax-db", (string)web["ServiceURI"]!, expected: true));
        Assert.False(await AuthorizeUntilAsync(fixture.C2, "ax-db", Id("ax-api").ToString(), expected: false));
    }

    [Fact]
    public async Task Killing_the_leader_while_clients_sign_loses_no_root_and_no_intention_and_every_leaf_is_issued()
    {
        for (var i = 0; i < 20; i++)
        {
            await PutAsync(fixture.C1, $"/v1/connect/intentions/exact?source=kl-web{i}&destination=kl-db", $$"""{"Action": "{{(i % 2 == 0 ? "allow" : "deny")}}"}""");
        }

        var (before, _) = await GetAsync(fixture.Cluster.Running.First(), "/v1/connect/ca/roots");
        var leader = await fixture.Cluster.LeaderAsync(Timeout);
        var requests = Enumerable.Range(0, 30)
            .Select(i => GetAsync(i % 2 == 0 ? fixture.C1 : fixture.C2, $"/v1/agent/connect/ca/leaf/kl-svc{i}"))
            .ToList();
        await Task.WhenAny(requests); // signing is under way
        await leader.KillAsync();
        var leaves = await Task.WhenAll(requests);

        var survivors = fixture.Cluster.Running.ToList();
        await fixture.Cluster.LeaderAsync(Timeout);
        foreach (var server in survivors)
        {
            var (roots, _) = await GetAsync(server, "/v1/connect/ca/roots");
            Assert.Equal((string)before["ActiveRootID"]!, (string)roots["ActiveRootID"]!);
            Assert.Equal(RootPems(before).Order(), RootPems(roots).Order());
            var (intentions, _) = await GetAsync(server, "/v1/connect/intentions/match?by=destination&name=kl-db");
            Assert.Equal(20, intentions["kl-db"]!.AsArray().Count);
        }

        var bundle = RootPems(before);
        for (var i = 0; i < leaves.Length; i++)
        {
            var verdict = PeerCertificate.Verify(Pem(leaves[i].Json), bundle, Id($"kl-svc{i}"), DateTimeOffset.UtcNow);
            Assert.True(verdict.Trusted, verdict.Reason);
        }

        await leader.RestartAsync();
        await fixture.Cluster.WaitForServersAsync(3, Timeout);
    }

    [Fact]
    public async Task A_root_rotation_renews_every_leaf_with_no_moment_a_peer_would_refuse_one()
    {
        var agents = new[] { (Agent: fixture.C1, Service: "rot-web"), (Agent: fixture.C2, Service: "rot-db") };
        var leaves = new JsonObject[2];
        var roots = new JsonObject[2];
        var indexes = new ulong[4];
        for (var i = 0; i < 2; i++)
        {
            (leaves[i], indexes[i]) = await GetAsync(agents[i].Agent, $"/v1/agent/connect/ca/leaf/{agents[i].Service}");
            (roots[i], indexes[2 + i]) = await GetAsync(agents[i].Agent, "/v1/agent/connect/ca/roots");
        }

        var oldRoot = (string)roots[0]["ActiveRootID"]!;
        var checks = 0;
        void CheckEveryPair()
        {
            var now = DateTimeOffset.UtcNow;
            for (var from = 0; from < 2; from++)
            {
                for (var at = 0; at < 2; at++)
                {
                    var verdict = PeerCertificate.Verify(Pem(leaves[from]), RootPems(roots[at]), Id(agents[from].Service), now);
                    Assert.True(verdict.Trusted, $"{agents[from].Service}'s leaf on {agents[from].Agent.Name} fails on {agents[at].Agent.Name} (check {checks}): {verdict.Reason}");
                    checks++;
                }
            }
        }

        CheckEveryPair();
        var server = fixture.Cluster.Running.First();
        await PutAsync(server, "/v1/connect/ca/configuration", """{"Provider": "consul", "Config": {"PrivateKeyType": "rsa", "PrivateKeyBits": 2048}}""");
        var (rotated, _) = await GetAsync(server, "/v1/connect/ca/roots");
        var newRoot = (string)rotated["ActiveRootID"]!;
        Assert.NotEqual(oldRoot, newRoot);
        var newRootPem = (string)rotated["Roots"]!.AsArray().Single(r => (string)r!["ID"]! == newRoot)!["RootCert"]!;

        // Follow every change each agent shows (its leaf, its roots) and check every pair at each.
        using var deadline = new CancellationTokenSource(Timeout);
        var polls = new Task<(JsonObject Json, ulong Index)>?[4];
        bool Renewed(JsonObject leaf) => PeerCertificate.Verify(Pem(leaf), [newRootPem], Id((string)leaf["Service"]!), DateTimeOffset.UtcNow).Trusted;
        while (!(Renewed(leaves[0]) && Renewed(leaves[1])))
        {
            for (var i = 0; i < 4; i++)
            {
                var (agent, service) = agents[i % 2];
                polls[i] ??= GetAsync(agent, i < 2 ? $"/v1/agent/connect/ca/leaf/{service}?index={indexes[i]}&wait=30s" : $"/v1/agent/connect/ca/roots?index={indexes[i]}&wait=30s", deadline.Token);
            }

            var done = await Task.WhenAny(polls!);
            var slot = Array.IndexOf(polls, done);
            polls[slot] = null;
            var (json, index) = await done;
            indexes[slot] = index;
            if (slot < 2)
            {
                leaves[slot] = json;
            }
            else
            {
                roots[slot - 2] = json;
            }

            CheckEveryPair();
        }

        Assert.True(checks > 4, "the leaves changed while being checked");
        var (finalRoots, _) = await GetAsync(server, "/v1/connect/ca/roots");
        var old = finalRoots["Roots"]!.AsArray().Single(r => (string)r!["ID"]! == oldRoot)!;
        Assert.False((bool)old["Active"]!);
        Assert.NotEqual("0001-01-01T00:00:00Z", (string)old["RotatedOutAt"]!);
        var cross = string.Concat(finalRoots["Roots"]!.AsArray().Single(r => (string)r!["ID"]! == newRoot)!["IntermediateCerts"]!.AsArray().Select(c => (string)c!));
        var oldPem = (string)old["RootCert"]!;
        foreach (var leaf in leaves)
        {
            var leafOnly = Openssl.Blocks(Pem(leaf))[0];
            Assert.Equal("OK", Openssl.Verify(newRootPem, leafOnly, null, DateTimeOffset.UtcNow));
            Assert.Equal("OK", Openssl.Verify(oldPem, leafOnly, cross, DateTimeOffset.UtcNow));
        }
    }

    /// <summary>The agent's authorize answer, asked again (bounded, no waiting) until it is <paramref name="expected"/>: its intentions follow a write by a subscription event.</summary>
    private static async Task<bool> AuthorizeUntilAsync(AgentProcess agent, string target, string uri, bool expected)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var reply = await agent.Http.PostAsJsonAsync(new Uri("/v1/agent/connect/authorize", UriKind.Relative), new { Target = target, ClientCertURI = uri, ClientCertSerial = "01" });
            Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
            var body = JsonNode.Parse(await reply.Content.ReadAsStringAsync())!;
            if ((bool)body["Authorized"]! == expected || attempt == 500)
            {
                return (bool)body["Authorized"]!;
            }
        }
    }
}
