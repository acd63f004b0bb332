using System.Net;

namespace Cluster.Tests.Server;

/// <summary>Agent-local endpoints: ?hash blocking, maintenance mode, check validation.</summary>
[Trait("Category", "Integration")]
public sealed class HttpAgentLocalTests(HttpAgentFixture agent) : IClassFixture<HttpAgentFixture>
{
    [Fact]
    public async Task A_hash_query_blocks_until_local_state_changes()
    {
        var first = await agent.GetAsync("/v1/agent/services");
        var hash = first.Headers.GetValues("X-Consul-ContentHash").Single();
        Assert.Equal(hash, (await agent.GetAsync("/v1/agent/services")).Headers.GetValues("X-Consul-ContentHash").Single());

        var blocked = agent.GetAsync($"/v1/agent/services?hash={hash}&wait=30s");
        Assert.False(blocked.IsCompleted);
        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync("/v1/agent/service/register", """{"Name":"hash-web","Port":80}""")).Status);
        var woken = await blocked.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(hash, woken.Headers.GetValues("X-Consul-ContentHash").Single());
        Assert.NotNull(woken.Json!["hash-web"]);

        // A stale hash answers at once.
        Assert.NotNull((await agent.GetAsync("/v1/agent/services?hash=0000&wait=30s")).Json!["hash-web"]);
    }

    [Fact]
    public async Task Maintenance_mode_adds_and_removes_a_critical_check()
    {
        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync("/v1/agent/service/register", """{"Name":"maint-web","Port":80}""")).Status);
        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync("/v1/agent/service/maintenance/maint-web?enable=true&reason=upgrading")).Status);
        var checks = (await agent.GetAsync("/v1/agent/checks")).Json!;
        Assert.Equal("critical", (string?)checks["_service_maintenance:maint-web"]!["Status"]);
        Assert.Equal("upgrading", (string?)checks["_service_maintenance:maint-web"]!["Notes"]);
        Assert.Empty((await agent.GetAsync("/v1/health/service/maint-web?passing")).Json!.AsArray());

        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync("/v1/agent/service/maintenance/maint-web?enable=false")).Status);
        Assert.Null((await agent.GetAsync("/v1/agent/checks")).Json!["_service_maintenance:maint-web"]);
        Assert.Single((await agent.GetAsync("/v1/health/service/maint-web?passing")).Json!.AsArray());

        Assert.Equal(HttpStatusCode.BadRequest, (await agent.PutAsync("/v1/agent/maintenance")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await agent.PutAsync("/v1/agent/maintenance?enable=maybe")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await agent.PutAsync("/v1/agent/service/maintenance/nope?enable=true")).Status);
    }

    [Theory]
    [InlineData("""{"Name":"c1","HTTP":"http://127.0.0.1:1/"}""", "Interval")]
    [InlineData("""{"Name":"c2","Args":["/bin/true"],"Interval":"10s"}""", "enable_script_checks")]
    [InlineData("""{"Name":"c3","TCP":"no-port","Interval":"10s"}""", "Invalid check")]
    [InlineData("""{"Name":"c4","HTTP":"http://127.0.0.1:1/","Interval":"-1s"}""", "Interval")]
    public async Task A_check_that_cannot_run_is_a_400_and_registers_nothing(string body, string message)
    {
        var reply = await agent.PutAsync("/v1/agent/check/register", body);
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Contains(message, System.Text.Encoding.UTF8.GetString(reply.Body), StringComparison.Ordinal);
        var name = (string?)System.Text.Json.Nodes.JsonNode.Parse(body)!["Name"];
        Assert.Null((await agent.GetAsync("/v1/agent/checks")).Json![name!]);
    }

    [Fact]
    public async Task An_http_check_run_by_the_agent_reaches_the_catalog()
    {
        // The agent's own HTTP API is the checked endpoint: a real socket, a real 200.
        var url = new Uri(agent.Address, "/v1/status/leader");
        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync("/v1/agent/service/register", $$$"""{"Name":"checked-web","Port":80,"Check":{"HTTP":"{{{url}}}","Interval":"1s"}}""")).Status);
        var index = "0";
        for (var turn = 0; turn < 12; turn++)
        {
            var reply = await agent.GetAsync($"/v1/health/checks/checked-web?index={index}&wait=10s").WaitAsync(TimeSpan.FromSeconds(60));
            index = reply.Headers.GetValues("X-Consul-Index").Single();
            if ((string?)reply.Json!.AsArray().SingleOrDefault()?["Status"] == "passing")
            {
                Assert.StartsWith("HTTP GET", (string?)reply.Json!.AsArray().Single()!["Output"], StringComparison.Ordinal);
                return;
            }
        }

        Assert.Fail("the HTTP check never reported passing");
    }
}
