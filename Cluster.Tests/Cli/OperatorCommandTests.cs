namespace Cluster.Tests.Cli;

/// <summary>`cluster operator raft list-peers|remove-peer` against a fake agent.</summary>
public sealed class OperatorCommandTests : IAsyncLifetime
{
    private FakeAgent _agent = null!;

    public async Task InitializeAsync() => _agent = await FakeAgent.StartAsync();

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    [Fact]
    public async Task List_peers_prints_the_raft_configuration()
    {
        _agent.Answer("GET", "/v1/operator/raft/configuration", """
            {"Servers":[
              {"ID":"e3a6a5a1-0000-4000-8000-000000000001","Node":"server-1","Address":"10.0.0.1:8300","Leader":true,"Voter":true,"ProtocolVersion":"3"},
              {"ID":"e3a6a5a1-0000-4000-8000-000000000002","Node":"server-2","Address":"10.0.0.2:8300","Leader":false,"Voter":false,"ProtocolVersion":""}
            ],"Index":42}
            """);
        var run = await _agent.RunAsync("operator", "raft", "list-peers", "-stale");
        Assert.Equal(new CliRun(0, """
            Node      ID                                    Address        State     Voter  RaftProtocol
            server-1  e3a6a5a1-0000-4000-8000-000000000001  10.0.0.1:8300  leader    true   3
            server-2  e3a6a5a1-0000-4000-8000-000000000002  10.0.0.2:8300  follower  false  <=1

            """, ""), run);
        Assert.Equal("GET /v1/operator/raft/configuration?stale", _agent.Request.ToString());
    }

    [Fact]
    public async Task List_peers_without_a_leader_reports_the_agents_answer()
    {
        _agent.Answer("GET", "/v1/operator/raft/configuration", "No cluster leader", status: 500);
        Assert.Equal(
            new CliRun(1, "", "Error getting peers: Failed to retrieve raft configuration: Unexpected response code: 500 (No cluster leader)\n"),
            await _agent.RunAsync("operator", "raft", "list-peers"));
    }

    [Fact]
    public async Task Remove_peer_by_address_or_by_id()
    {
        _agent.Answer("DELETE", "/v1/operator/raft/peer", "");
        Assert.Equal(new CliRun(0, "Removed peer with address \"10.0.0.3:8300\"\n", ""), await _agent.RunAsync("operator", "raft", "remove-peer", "-address=10.0.0.3:8300", "-token", "op"));
        Assert.Equal(new CliRun(0, "Removed peer with id \"e3a6\"\n", ""), await _agent.RunAsync("operator", "raft", "remove-peer", "--id", "e3a6", "-datacenter=dc2"));
        Assert.Equal(["DELETE /v1/operator/raft/peer?address=10.0.0.3%3A8300", "DELETE /v1/operator/raft/peer?id=e3a6&dc=dc2"], _agent.Requests.Select(r => r.ToString()));
        Assert.Equal("op", _agent.Requests[0].Token);
    }

    [Fact]
    public async Task Remove_peer_needs_exactly_one_of_address_and_id()
    {
        Assert.Equal(new CliRun(1, "", "Error removing peer: an address or id is required for the peer to remove\n"), await _agent.RunAsync("operator", "raft", "remove-peer"));
        Assert.Equal(new CliRun(1, "", "Error removing peer: cannot give both an address and id\n"), await _agent.RunAsync("operator", "raft", "remove-peer", "-address=a:1", "-id=b"));
        Assert.Empty(_agent.Requests);

        _agent.Answer("DELETE", "/v1/operator/raft/peer", "address \"a:1\" was not found in the Raft configuration", status: 500);
        Assert.Equal(
            new CliRun(1, "", "Error removing peer: Unexpected response code: 500 (address \"a:1\" was not found in the Raft configuration)\n"),
            await _agent.RunAsync("operator", "raft", "remove-peer", "-address=a:1"));
    }

    [Fact]
    public async Task Operator_and_raft_alone_list_their_subcommands()
    {
        var raft = await _agent.RunAsync("operator", "raft");
        Assert.Equal(1, raft.Exit);
        Assert.Contains("    list-peers     Display the current Raft peer configuration\n", raft.Stderr, StringComparison.Ordinal);
        Assert.Contains("    remove-peer    Remove a server from the Raft configuration\n", raft.Stderr, StringComparison.Ordinal);

        var help = await _agent.RunAsync("operator", "-h");
        Assert.Equal(0, help.Exit);
        Assert.Contains("    raft    Provides commands to interact with the Raft subsystem\n", help.Stdout, StringComparison.Ordinal);
    }
}
