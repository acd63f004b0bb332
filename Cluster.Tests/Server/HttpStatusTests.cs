using System.Net;

namespace Cluster.Tests.Server;

/// <summary>/v1/status, /v1/operator/raft/configuration, the agent's self view and routing (404 / 405).</summary>
[Trait("Category", "Integration")]
public sealed class HttpStatusTests(HttpAgentFixture agent) : IClassFixture<HttpAgentFixture>
{
    [Fact]
    public async Task Leader_and_peers_name_this_server_s_RPC_address()
    {
        var leader = await agent.GetAsync("/v1/status/leader");
        Assert.Equal(HttpStatusCode.OK, leader.Status);
        Assert.Equal("application/json", leader.ContentHeaders.ContentType?.MediaType);
        var address = (string?)leader.Json;
        Assert.Equal(agent.Host.Server.RpcAddress, address);
        Assert.StartsWith("127.0.0.1:", address, StringComparison.Ordinal);

        var peers = await agent.GetAsync("/v1/status/peers");
        Assert.Equal([address], peers.Json!.AsArray().Select(p => (string?)p));
    }

    [Fact]
    public async Task Raft_configuration_lists_the_single_voter_as_leader()
    {
        var reply = await agent.GetAsync("/v1/operator/raft/configuration");
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var json = reply.Json!.AsObject();
        Assert.Equal(["Servers", "Index"], json.Select(p => p.Key));
        Assert.True((ulong)json["Index"]! > 0);
        var server = Assert.Single(json["Servers"]!.AsArray())!.AsObject();
        Assert.Equal(["ID", "Node", "Address", "Leader", "ProtocolVersion", "Voter"], server.Select(p => p.Key));
        Assert.Equal(agent.Host.Server.NodeId, (string?)server["ID"]);
        Assert.Equal(HttpAgentFixture.NodeName, (string?)server["Node"]);
        Assert.Equal(agent.Host.Server.RpcAddress, (string?)server["Address"]);
        Assert.True((bool)server["Leader"]!);
        Assert.True((bool)server["Voter"]!);
        Assert.Equal("3", (string?)server["ProtocolVersion"]);
        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync("/v1/operator/raft/configuration?stale")).Status);
    }

    [Fact]
    public async Task Agent_self_and_members_describe_this_server()
    {
        var self = (await agent.GetAsync("/v1/agent/self")).Json!;
        Assert.Equal(HttpAgentFixture.NodeName, (string?)self["Config"]!["NodeName"]);
        Assert.Equal("dc1", (string?)self["Config"]!["Datacenter"]);
        Assert.True((bool)self["Config"]!["Server"]!);
        Assert.Equal("LEADER", (string?)self["Stats"]!["raft"]!["state"]);
        var member = Assert.Single((await agent.GetAsync("/v1/agent/members")).Json!.AsArray())!;
        Assert.Equal(HttpAgentFixture.NodeName, (string?)member["Name"]);
        Assert.Equal(1, (int)member["Status"]!);
        Assert.Equal(["dc1"], (await agent.GetAsync("/v1/catalog/datacenters")).Json!.AsArray().Select(d => (string?)d));
    }

    [Theory]
    [InlineData("/v1/nope")]
    [InlineData("/v2/kv/a")]
    [InlineData("/")]
    [InlineData("/v1/catalog/registerx")]
    [InlineData("/v1/status/leaderx")]
    public async Task An_unknown_path_is_404_with_a_message(string path)
    {
        var reply = await agent.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, reply.Status);
        Assert.Contains("Unknown path", reply.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("POST", "/v1/kv/a", "GET, PUT, DELETE")]
    [InlineData("GET", "/v1/txn", "PUT")]
    [InlineData("DELETE", "/v1/catalog/register", "PUT")]
    [InlineData("PUT", "/v1/catalog/nodes", "GET")]
    [InlineData("PUT", "/v1/status/leader", "GET")]
    [InlineData("GET", "/v1/session/create", "PUT")]
    [InlineData("POST", "/v1/config", "PUT")]
    [InlineData("PATCH", "/v1/agent/check/update/x", "PUT")]
    public async Task A_known_path_with_the_wrong_method_is_405_naming_the_allowed_ones(string method, string path, string allowed)
    {
        var reply = await agent.SendAsync(new HttpMethod(method), path);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, reply.Status);
        Assert.Contains(method, reply.Text, StringComparison.Ordinal);
        Assert.Equal(allowed, reply.ContentHeaders.Allow.Count > 0 ? string.Join(", ", reply.ContentHeaders.Allow) : reply.Header("Allow"));
    }

    [Fact]
    public async Task A_legacy_GET_write_is_refused_from_a_browser()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/agent/check/pass/x");
        request.Headers.Add("Origin", "http://evil.example");
        using var response = await agent.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync("/v1/agent/check/pass/x")).Status);
    }
}
