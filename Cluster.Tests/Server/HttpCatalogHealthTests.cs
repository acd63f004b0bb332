using System.Net;
using System.Text.Json.Nodes;

namespace Cluster.Tests.Server;

/// <summary>/v1/catalog, /v1/health and the agent's service and TTL-check endpoints, with Consul's shapes.</summary>
[Trait("Category", "Integration")]
public sealed class HttpCatalogHealthTests(HttpAgentFixture agent) : IClassFixture<HttpAgentFixture>
{
    private static readonly string[] NodeFields = ["ID", "Node", "Address", "Datacenter", "TaggedAddresses", "Meta", "CreateIndex", "ModifyIndex"];

    private static readonly string[] CheckFields = ["Node", "CheckID", "Name", "Status", "Notes", "Output", "ServiceID", "ServiceName", "ServiceTags", "Type", "Interval", "Timeout", "Definition", "CreateIndex", "ModifyIndex"];

    private static readonly string[] ServiceNodeFields =
    [
        "ID", "Node", "Address", "Datacenter", "TaggedAddresses", "NodeMeta", "ServiceKind", "ServiceID", "ServiceName", "ServiceTags", "ServiceAddress",
        "ServiceTaggedAddresses", "ServiceWeights", "ServiceMeta", "ServicePort", "ServiceEnableTagOverride", "ServiceProxy", "ServiceConnect", "CreateIndex", "ModifyIndex",
    ];

    private static readonly string[] AgentServiceFields = ["ID", "Service", "Tags", "Address", "Meta", "Port", "Weights", "EnableTagOverride", "Datacenter", "CreateIndex", "ModifyIndex"];

    [Fact]
    public async Task Register_then_read_the_node_its_services_and_checks_everywhere()
    {
        var register = await agent.PutAsync("/v1/catalog/register", """
            {
              "Node": "cat-n1", "Address": "10.0.0.1", "NodeMeta": {"rack": "r1"},
              "Service": {"ID": "web-1", "Service": "cat-web", "Tags": ["v1", "primary"], "Port": 8080, "Meta": {"team": "a"}},
              "Checks": [
                {"CheckID": "web-1-alive", "Name": "web alive", "ServiceID": "web-1", "Status": "passing"},
                {"CheckID": "disk", "Name": "disk", "Status": "warning", "Notes": "node-level"}
              ]
            }
            """);
        Assert.Equal(HttpStatusCode.OK, register.Status);
        Assert.Equal("true", register.Text);

        var nodes = await agent.GetAsync("/v1/catalog/nodes");
        Assert.True(nodes.Index > 0);
        var node = nodes.Json!.AsArray().Single(n => (string?)n!["Node"] == "cat-n1")!.AsObject();
        Assert.Equal(NodeFields, node.Select(p => p.Key));
        Assert.Equal("10.0.0.1", (string?)node["Address"]);
        Assert.Equal("dc1", (string?)node["Datacenter"]);
        Assert.Equal("r1", (string?)node["Meta"]!["rack"]);
        Assert.Contains(nodes.Json!.AsArray(), n => (string?)n!["Node"] == HttpAgentFixture.NodeName);
        Assert.Equal(["cat-n1"], (await agent.GetAsync("/v1/catalog/nodes?node-meta=rack:r1")).Json!.AsArray().Select(n => (string?)n!["Node"]));

        var services = (await agent.GetAsync("/v1/catalog/services")).Json!.AsObject();
        Assert.Equal(["primary", "v1"], services["cat-web"]!.AsArray().Select(t => (string?)t));
        Assert.Empty(services["consul"]!.AsArray());

        var instances = (await agent.GetAsync("/v1/catalog/service/cat-web")).Json!.AsArray();
        var instance = Assert.Single(instances)!.AsObject();
        Assert.Equal(ServiceNodeFields, instance.Select(p => p.Key));
        Assert.Equal("cat-n1", (string?)instance["Node"]);
        Assert.Equal("web-1", (string?)instance["ServiceID"]);
        Assert.Equal(8080, (int)instance["ServicePort"]!);
        Assert.Equal("a", (string?)instance["ServiceMeta"]!["team"]);
        Assert.Equal(1, (int)instance["ServiceWeights"]!["Passing"]!);
        Assert.Single((await agent.GetAsync("/v1/catalog/service/cat-web?tag=v1")).Json!.AsArray());
        Assert.Single((await agent.GetAsync("/v1/catalog/service/cat-web?tag=v1&tag=primary")).Json!.AsArray());
        Assert.Empty((await agent.GetAsync("/v1/catalog/service/cat-web?tag=v2")).Json!.AsArray());
        Assert.Empty((await agent.GetAsync("/v1/catalog/service/cat-none")).Json!.AsArray());

        var byNode = (await agent.GetAsync("/v1/catalog/node/cat-n1")).Json!.AsObject();
        Assert.Equal(["Node", "Services"], byNode.Select(p => p.Key));
        Assert.Equal(AgentServiceFields, byNode["Services"]!["web-1"]!.AsObject().Select(p => p.Key));
        Assert.Equal("null", (await agent.GetAsync("/v1/catalog/node/cat-none")).Text);

        var nodeServices = (await agent.GetAsync("/v1/catalog/node-services/cat-n1")).Json!.AsObject();
        Assert.Equal(["Node", "Services"], nodeServices.Select(p => p.Key));
        Assert.Equal("web-1", (string?)Assert.Single(nodeServices["Services"]!.AsArray())!["ID"]);

        var nodeChecks = (await agent.GetAsync("/v1/health/node/cat-n1")).Json!.AsArray();
        Assert.Equal(["disk", "web-1-alive"], nodeChecks.Select(c => (string?)c!["CheckID"]).Order(StringComparer.Ordinal));
        Assert.All(nodeChecks, c => Assert.Equal(CheckFields, c!.AsObject().Select(p => p.Key)));
        var serviceCheck = nodeChecks.Single(c => (string?)c!["CheckID"] == "web-1-alive")!;
        Assert.Equal("cat-web", (string?)serviceCheck["ServiceName"]);
        Assert.Equal(["v1", "primary"], serviceCheck["ServiceTags"]!.AsArray().Select(t => (string?)t));

        Assert.Equal(["web-1-alive"], (await agent.GetAsync("/v1/health/checks/cat-web")).Json!.AsArray().Select(c => (string?)c!["CheckID"]));
        Assert.Contains((await agent.GetAsync("/v1/health/state/warning")).Json!.AsArray(), c => (string?)c!["CheckID"] == "disk");
        Assert.DoesNotContain((await agent.GetAsync("/v1/health/state/passing")).Json!.AsArray(), c => (string?)c!["CheckID"] == "disk");
        Assert.Contains((await agent.GetAsync("/v1/health/state/any")).Json!.AsArray(), c => (string?)c!["CheckID"] == "disk");

        var health = (await agent.GetAsync("/v1/health/service/cat-web")).Json!.AsArray();
        var entry = Assert.Single(health)!.AsObject();
        Assert.Equal(["Node", "Service", "Checks"], entry.Select(p => p.Key));
        Assert.Equal(NodeFields, entry["Node"]!.AsObject().Select(p => p.Key));
        Assert.Equal(2, entry["Checks"]!.AsArray().Count); // the node's check applies to its services too
        // ?passing drops an instance with any check not passing (the node's warning here).
        Assert.Empty((await agent.GetAsync("/v1/health/service/cat-web?passing")).Json!.AsArray());
        Assert.Single((await agent.GetAsync("/v1/health/service/cat-web?tag=primary")).Json!.AsArray());
        Assert.Empty((await agent.GetAsync("/v1/health/service/cat-web?tag=v9")).Json!.AsArray());
    }

    [Fact]
    public async Task Passing_and_tag_filters_pick_the_healthy_tagged_instances()
    {
        foreach (var (node, status, tag) in new[] { ("pick-a", "passing", "blue"), ("pick-b", "critical", "blue"), ("pick-c", "passing", "green") })
        {
            var body = new JsonObject
            {
                ["Node"] = node,
                ["Address"] = "10.1.0.1",
                ["Service"] = new JsonObject { ["Service"] = "pick", ["Tags"] = new JsonArray(tag), ["Port"] = 80 },
                ["Check"] = new JsonObject { ["CheckID"] = "alive", ["Name"] = "alive", ["ServiceID"] = "pick", ["Status"] = status },
            };
            Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync("/v1/catalog/register", body.ToJsonString())).Status);
        }

        static IEnumerable<string?> Nodes(Reply reply) => reply.Json!.AsArray().Select(e => (string?)e!["Node"]!["Node"]).Order(StringComparer.Ordinal);
        Assert.Equal(["pick-a", "pick-b", "pick-c"], Nodes(await agent.GetAsync("/v1/health/service/pick")));
        Assert.Equal(["pick-a", "pick-c"], Nodes(await agent.GetAsync("/v1/health/service/pick?passing")));
        Assert.Equal(["pick-a", "pick-b"], Nodes(await agent.GetAsync("/v1/health/service/pick?tag=blue")));
        Assert.Equal(["pick-a"], Nodes(await agent.GetAsync("/v1/health/service/pick?tag=blue&passing")));
        Assert.Equal(["pick-a", "pick-b", "pick-c"], Nodes(await agent.GetAsync("/v1/health/service/pick?passing=false")));
    }

    [Fact]
    public async Task Deregister_removes_a_check_a_service_or_the_whole_node()
    {
        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync("/v1/catalog/register", """
            {"Node": "dereg-n", "Address": "10.0.0.9",
             "Service": {"Service": "dereg-svc", "Port": 1},
             "Checks": [{"CheckID": "c1", "Name": "c1", "Status": "passing"}, {"CheckID": "c2", "Name": "c2", "ServiceID": "dereg-svc"}]}
            """)).Status);

        Assert.Equal("true", (await agent.PutAsync("/v1/catalog/deregister", """{"Node": "dereg-n", "CheckID": "c1"}""")).Text);
        Assert.Equal(["c2"], (await agent.GetAsync("/v1/health/node/dereg-n")).Json!.AsArray().Select(c => (string?)c!["CheckID"]));

        Assert.Equal("true", (await agent.PutAsync("/v1/catalog/deregister", """{"Node": "dereg-n", "ServiceID": "dereg-svc"}""")).Text);
        Assert.Empty((await agent.GetAsync("/v1/catalog/service/dereg-svc")).Json!.AsArray());
        Assert.Empty((await agent.GetAsync("/v1/health/node/dereg-n")).Json!.AsArray()); // the service's checks go with it
        Assert.Contains((await agent.GetAsync("/v1/catalog/nodes")).Json!.AsArray(), n => (string?)n!["Node"] == "dereg-n");

        Assert.Equal("true", (await agent.PutAsync("/v1/catalog/deregister", """{"Node": "dereg-n"}""")).Text);
        Assert.DoesNotContain((await agent.GetAsync("/v1/catalog/nodes")).Json!.AsArray(), n => (string?)n!["Node"] == "dereg-n");
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync("/v1/catalog/node-services/dereg-n")).Status);
        Assert.Equal("true", (await agent.PutAsync("/v1/catalog/deregister", """{"Node": "dereg-n"}""")).Text);
    }

    [Fact]
    public async Task A_refused_registration_writes_nothing()
    {
        var before = (await agent.GetAsync("/v1/catalog/nodes")).Index;
        var refused = await agent.PutAsync("/v1/catalog/register", """
            {"Node": "refused-n", "Address": "10.0.0.2", "Service": {"Service": "refused-svc"},
             "Checks": [{"CheckID": "x", "Name": "x", "ServiceID": "no-such-service"}]}
            """);
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Contains("no-such-service", refused.Text, StringComparison.Ordinal);
        Assert.DoesNotContain((await agent.GetAsync("/v1/catalog/nodes")).Json!.AsArray(), n => (string?)n!["Node"] == "refused-n");
        Assert.Empty((await agent.GetAsync("/v1/catalog/service/refused-svc")).Json!.AsArray());
        Assert.Equal(before, (await agent.GetAsync("/v1/catalog/nodes")).Index);
    }

    [Fact]
    public async Task An_agent_service_with_a_TTL_check_moves_through_pass_warn_fail_and_update_in_catalog_and_health()
    {
        var register = await agent.PutAsync("/v1/agent/service/register", """
            {"Name": "ttl-api", "ID": "ttl-api-1", "Port": 9000, "Tags": ["t1"], "Check": {"TTL": "5m", "Notes": "app heartbeat"}}
            """);
        Assert.Equal(HttpStatusCode.OK, register.Status);
        const string checkId = "service:ttl-api-1";

        var local = (await agent.GetAsync("/v1/agent/services")).Json!["ttl-api-1"]!;
        Assert.Equal("ttl-api", (string?)local["Service"]);
        Assert.Equal(9000, (int)(await agent.GetAsync("/v1/agent/service/ttl-api-1")).Json!["Port"]!);
        Assert.Equal("critical", (string?)(await agent.GetAsync("/v1/agent/checks")).Json![checkId]!["Status"]);
        Assert.Equal(["ttl-api-1"], (await agent.GetAsync("/v1/catalog/service/ttl-api")).Json!.AsArray().Select(s => (string?)s!["ServiceID"]));
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync("/v1/agent/service/ttl-none")).Status);

        async Task<JsonNode> CatalogCheckAsync()
        {
            var checks = (await agent.GetAsync("/v1/health/checks/ttl-api")).Json!.AsArray();
            return Assert.Single(checks)!;
        }

        var initial = await CatalogCheckAsync();
        Assert.Equal("critical", (string?)initial["Status"]);
        Assert.Equal("ttl", (string?)initial["Type"]);
        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync($"/v1/agent/check/pass/{checkId}?note=all+good")).Status);
        var passed = await CatalogCheckAsync();
        Assert.Equal("passing", (string?)passed["Status"]);
        Assert.Equal("all good", (string?)passed["Output"]);
        Assert.Single((await agent.GetAsync("/v1/health/service/ttl-api?passing")).Json!.AsArray());

        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync($"/v1/agent/check/warn/{checkId}?note=slow")).Status);
        Assert.Equal("warning", (string?)(await CatalogCheckAsync())["Status"]);
        Assert.Empty((await agent.GetAsync("/v1/health/service/ttl-api?passing")).Json!.AsArray());
        Assert.Contains((await agent.GetAsync("/v1/health/state/warning")).Json!.AsArray(), c => (string?)c!["CheckID"] == checkId);

        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync($"/v1/agent/check/fail/{checkId}")).Status);
        Assert.Equal("critical", (string?)(await CatalogCheckAsync())["Status"]);
        Assert.Equal("critical", (string?)(await agent.GetAsync("/v1/agent/checks")).Json![checkId]!["Status"]);

        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync($"/v1/agent/check/update/{checkId}", """{"Status": "passing", "Output": "recovered"}""")).Status);
        var updated = await CatalogCheckAsync();
        Assert.Equal("passing", (string?)updated["Status"]);
        Assert.Equal("recovered", (string?)updated["Output"]);

        // An invalid status is refused and changes nothing; so is an unknown check.
        var invalid = await agent.PutAsync($"/v1/agent/check/update/{checkId}", """{"Status": "sideways"}""");
        Assert.Equal(HttpStatusCode.BadRequest, invalid.Status);
        Assert.Contains("sideways", invalid.Text, StringComparison.Ordinal);
        Assert.Equal("passing", (string?)(await CatalogCheckAsync())["Status"]);
        Assert.Equal(HttpStatusCode.NotFound, (await agent.PutAsync("/v1/agent/check/pass/no-such-check")).Status);

        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync("/v1/agent/service/deregister/ttl-api-1")).Status);
        Assert.Empty((await agent.GetAsync("/v1/catalog/service/ttl-api")).Json!.AsArray());
        Assert.Empty((await agent.GetAsync("/v1/health/checks/ttl-api")).Json!.AsArray());
        Assert.False((await agent.GetAsync("/v1/agent/checks")).Json!.AsObject().ContainsKey(checkId));
        Assert.Equal(HttpStatusCode.NotFound, (await agent.PutAsync("/v1/agent/service/deregister/ttl-api-1")).Status);
    }

    [Fact]
    public async Task An_agent_check_registered_on_its_own_and_deregistered()
    {
        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync("/v1/agent/check/register", """{"Name": "own-ttl", "TTL": "1m", "Status": "passing"}""")).Status);
        var check = (await agent.GetAsync($"/v1/health/node/{HttpAgentFixture.NodeName}")).Json!.AsArray().Single(c => (string?)c!["CheckID"] == "own-ttl")!;
        Assert.Equal("passing", (string?)check["Status"]);
        Assert.Equal("", (string?)check["ServiceID"]);

        var unknownService = await agent.PutAsync("/v1/agent/check/register", """{"Name": "orphan", "TTL": "1m", "ServiceID": "nope"}""");
        Assert.Equal(HttpStatusCode.BadRequest, unknownService.Status);
        Assert.False((await agent.GetAsync("/v1/agent/checks")).Json!.AsObject().ContainsKey("orphan"));

        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync("/v1/agent/check/deregister/own-ttl")).Status);
        Assert.DoesNotContain((await agent.GetAsync($"/v1/health/node/{HttpAgentFixture.NodeName}")).Json!.AsArray(), c => (string?)c!["CheckID"] == "own-ttl");
        Assert.Equal(HttpStatusCode.NotFound, (await agent.PutAsync("/v1/agent/check/deregister/own-ttl")).Status);
    }
}
