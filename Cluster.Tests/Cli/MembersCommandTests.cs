namespace Cluster.Tests.Cli;

/// <summary>`cluster members` against a fake agent: Consul's table from /v1/agent/members.</summary>
public sealed class MembersCommandTests : IAsyncLifetime
{
    // Out of order on purpose: servers come first, then clients, each by name.
    private const string Members = """
        [
          {"Name":"web-2","Addr":"10.0.1.2","Port":8301,"Tags":{"role":"node","dc":"dc1","build":"1.17.0:abcdef","vsn":"2","segment":""},"Status":4},
          {"Name":"server-b","Addr":"10.0.0.2","Port":8301,"Tags":{"role":"consul","dc":"dc1","build":"1.17.0:abcdef","vsn":"2","port":"8300"},"Status":1},
          {"Name":"web-1","Addr":"fd00::1","Port":8301,"Tags":{"role":"node","dc":"dc1","build":"1.17.0","vsn":"2"},"Status":1},
          {"Name":"server-a","Addr":"10.0.0.1","Port":8301,"Tags":{"role":"consul","dc":"dc1","vsn":"2"},"Status":3}
        ]
        """;

    private FakeAgent _agent = null!;

    public async Task InitializeAsync() => _agent = (await FakeAgent.StartAsync()).Answer("GET", "/v1/agent/members", Members);

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    [Fact]
    public async Task Prints_consuls_table_servers_first()
    {
        Assert.Equal(new CliRun(0, """
            Node      Address         Status  Type    Build   Protocol  DC   Partition  Segment
            server-a  10.0.0.1:8301   left    server  < 0.3   2         dc1  default    <all>
            server-b  10.0.0.2:8301   alive   server  1.17.0  2         dc1  default    <all>
            web-1     [fd00::1]:8301  alive   client  1.17.0  2         dc1  default    <default>
            web-2     10.0.1.2:8301   failed  client  1.17.0  2         dc1  default    <default>

            """, ""), await _agent.RunAsync("members"));
        Assert.Equal("GET /v1/agent/members", _agent.Request.ToString());
    }

    [Fact]
    public async Task Status_filters_by_regular_expression_and_no_match_exits_2()
    {
        var alive = await _agent.RunAsync("members", "-status=alive|left");
        Assert.Equal(0, alive.Exit);
        Assert.Equal(["Node", "server-a", "server-b", "web-1"], alive.Stdout.TrimEnd().Split('\n').Select(l => l.Split(' ')[0]));

        Assert.Equal(new CliRun(2, "", ""), await _agent.RunAsync("members", "-status", "leaving"));
        var bad = await _agent.RunAsync("members", "-status=(");
        Assert.Equal(1, bad.Exit);
        Assert.StartsWith("Failed to compile status regexp: ", bad.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, _agent.Requests.Count); // a bad pattern sends nothing
    }

    [Fact]
    public async Task Detailed_shows_every_tag_sorted()
    {
        var run = await _agent.RunAsync("members", "-detailed", "-status", "^alive$", "-wan");
        Assert.Equal(new CliRun(0, """
            Node      Address         Status  Tags
            server-b  10.0.0.2:8301   alive   build=1.17.0:abcdef,dc=dc1,port=8300,role=consul,vsn=2
            web-1     [fd00::1]:8301  alive   build=1.17.0,dc=dc1,role=node,vsn=2

            """, ""), run);
        Assert.Equal("GET /v1/agent/members?wan=1", _agent.Request.ToString());
    }

    [Fact]
    public async Task A_refused_connection_is_reported_as_consul_reports_it()
    {
        var port = ClosedPort();
        var run = await _agent.RunAsync("members", $"-http-addr=http://127.0.0.1:{port}");
        Assert.Equal(new CliRun(1, "", $"Error retrieving members: Get \"http://127.0.0.1:{port}/v1/agent/members\": dial tcp 127.0.0.1:{port}: connect: connection refused\n"), run);
    }

    // A port nothing listens on: bound, then released.
    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
