namespace Cluster.Tests.Cli;

/// <summary>`cluster catalog services|nodes` against a fake agent.</summary>
public sealed class CatalogCommandTests : IAsyncLifetime
{
    private FakeAgent _agent = null!;

    public async Task InitializeAsync() => _agent = await FakeAgent.StartAsync();

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    [Fact]
    public async Task Services_are_listed_by_name_and_with_tags_in_aligned_columns()
    {
        _agent.Answer("GET", "/v1/catalog/services", """{"web":["v2","v1"],"consul":[],"api-gateway":["edge"]}""");
        Assert.Equal(new CliRun(0, "api-gateway\nconsul\nweb\n", ""), await _agent.RunAsync("catalog", "services"));
        Assert.Equal(
            new CliRun(0, "api-gateway      edge\nconsul\nweb              v1,v2\n", ""),
            await _agent.RunAsync("catalog", "services", "-tags", "-node-meta", "rack=r1", "-node-meta=os=linux"));
        Assert.Equal(["GET /v1/catalog/services", "GET /v1/catalog/services?node-meta=rack%3Ar1&node-meta=os%3Alinux"], _agent.Requests.Select(r => r.ToString()));
    }

    [Fact]
    public async Task Services_of_one_node_come_from_the_node_endpoint()
    {
        _agent.Answer("GET", "/v1/catalog/node/node-1", """
            {"Node":{"Node":"node-1"},"Services":{
              "web-1":{"ID":"web-1","Service":"web","Tags":["v1"]},
              "web-2":{"ID":"web-2","Service":"web","Tags":["v2","v1"]},
              "db":{"ID":"db","Service":"db","Tags":null}}}
            """);
        Assert.Equal(new CliRun(0, "db\nweb      v1,v2\n", ""), await _agent.RunAsync("catalog", "services", "-node=node-1", "-tags", "-datacenter=dc2"));
        Assert.Equal("GET /v1/catalog/node/node-1?dc=dc2", _agent.Request.ToString());
    }

    [Fact]
    public async Task No_services_is_said_on_stderr_with_exit_code_0()
    {
        _agent.Answer("GET", "/v1/catalog/services", "{}");
        _agent.Answer("GET", "/v1/catalog/node/gone", "null"); // what Consul answers for a node it does not know
        Assert.Equal(new CliRun(0, "", "No services match the given query - try expanding your search.\n"), await _agent.RunAsync("catalog", "services"));
        Assert.Equal(new CliRun(0, "", "No services match the given query - try expanding your search.\n"), await _agent.RunAsync("catalog", "services", "-node", "gone"));
    }

    [Fact]
    public async Task Nodes_table_shortens_ids_unless_detailed()
    {
        _agent.Answer("GET", "/v1/catalog/nodes", """
            [{"ID":"3f7a5c1e-9d1b-4b9e-8f7a-2c1d3e4f5a6b","Node":"node-1","Address":"10.0.0.1","Datacenter":"dc1","TaggedAddresses":{"wan":"1.2.3.4","lan":"10.0.0.1"},"Meta":{"rack":"r1"}},
             {"ID":"","Node":"n2","Address":"10.0.0.22","Datacenter":"dc1","TaggedAddresses":null,"Meta":{}}]
            """);
        Assert.Equal(new CliRun(0, """
            Node    ID        Address    DC
            node-1  3f7a5c1e  10.0.0.1   dc1
            n2                10.0.0.22  dc1

            """, ""), await _agent.RunAsync("catalog", "nodes"));
        Assert.Equal(new CliRun(0, """
            Node    ID                                    Address    DC   TaggedAddresses            Meta
            node-1  3f7a5c1e-9d1b-4b9e-8f7a-2c1d3e4f5a6b  10.0.0.1   dc1  lan=10.0.0.1, wan=1.2.3.4  rack=r1
            n2                                            10.0.0.22  dc1

            """, ""), await _agent.RunAsync("catalog", "nodes", "-detailed", "-near=_agent", "-filter", "Meta.rack == r1"));
        Assert.Equal("GET /v1/catalog/nodes?near=_agent&filter=Meta.rack%20%3D%3D%20r1", _agent.Requests[1].ToString());
    }

    [Fact]
    public async Task Nodes_of_a_service_come_from_its_service_entries()
    {
        _agent.Answer("GET", "/v1/catalog/service/web", """
            [{"ID":"aa-bb","Node":"node-1","Address":"10.0.0.1","Datacenter":"dc1","NodeMeta":{"rack":"r1"},"ServiceID":"web-1","ServiceName":"web"}]
            """);
        var run = await _agent.RunAsync("catalog", "nodes", "-service", "web", "-detailed");
        Assert.Equal(new CliRun(0, "Node    ID     Address   DC   TaggedAddresses  Meta\nnode-1  aa-bb  10.0.0.1  dc1                   rack=r1\n", ""), run);
        Assert.Equal("GET /v1/catalog/service/web", _agent.Request.ToString());

        _agent.Answer("GET", "/v1/catalog/service/none", "[]");
        Assert.Equal(new CliRun(0, "", "No nodes match the given query - try expanding your search.\n"), await _agent.RunAsync("catalog", "nodes", "-service=none"));
    }

    [Fact]
    public async Task Catalog_errors_name_what_was_being_listed()
    {
        _agent.Answer("GET", "/v1/catalog/nodes", "ACL not found", status: 403);
        Assert.Equal(new CliRun(1, "", "Error listing nodes: Unexpected response code: 403 (ACL not found)\n"), await _agent.RunAsync("catalog", "nodes"));
        Assert.Equal(new CliRun(1, "", "Error listing nodes for service: Unexpected response code: 404 ()\n"), await _agent.RunAsync("catalog", "nodes", "-service=x"));

        var badMeta = await _agent.RunAsync("catalog", "services", "-node-meta", "no-equals");
        Assert.Equal(1, badMeta.Exit);
        Assert.StartsWith("invalid value \"no-equals\" for flag -node-meta: parse error\nUsage: cluster catalog services [options]\n", badMeta.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, _agent.Requests.Count);
    }
}
