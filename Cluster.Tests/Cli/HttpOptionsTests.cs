using Cluster.Testing;

namespace Cluster.Tests.Cli;

/// <summary>What every agent command shares: the HTTP options, Go-style flag parsing, usage and errors.</summary>
public sealed class HttpOptionsTests : IAsyncLifetime
{
    private FakeAgent _agent = null!;

    public async Task InitializeAsync() => _agent = (await FakeAgent.StartAsync()).Answer("GET", "/v1/catalog/services", """{"web":[]}""");

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    [Fact]
    public async Task The_flags_win_over_the_environment_and_an_address_may_carry_a_path_prefix()
    {
        var variables = new Dictionary<string, string> { ["CONSUL_HTTP_ADDR"] = "127.0.0.1:1", ["CONSUL_HTTP_TOKEN"] = "from-env" };
        _agent.Answer("GET", "/consul/v1/catalog/services", """{"api":[]}""");
        var run = await CliRun.RunAsync(["catalog", "services", $"-http-addr=http://{_agent.Address}/consul", "-token", "from-flag"], variables);
        Assert.Equal(new CliRun(0, "api\n", ""), run);
        Assert.Equal("GET /consul/v1/catalog/services", _agent.Request.ToString());
        Assert.Equal("from-flag", _agent.Request.Token);

        // host:port without a scheme is plain HTTP; the token comes from the environment.
        Assert.Equal(0, (await CliRun.RunAsync(["catalog", "services", "--http-addr", _agent.Address], variables)).Exit);
        Assert.Equal("from-env", _agent.Requests[1].Token);
    }

    [Fact]
    public async Task An_unknown_scheme_is_refused_before_any_request()
    {
        var run = await _agent.RunAsync("catalog", "services", "-http-addr=ftp://127.0.0.1:8500");
        Assert.Equal(new CliRun(1, "", "Error connecting to Consul agent: Unknown protocol scheme: ftp\n"), run);
    }

    [Theory]
    [InlineData("-nope", "flag provided but not defined: -nope")]
    [InlineData("-datacenter", "flag needs an argument: -datacenter")]
    [InlineData("-stale=maybe", "invalid boolean value \"maybe\" for -stale: parse error")]
    [InlineData("---tags", "bad flag syntax: ---tags")]
    public async Task A_bad_flag_prints_the_problem_and_the_usage_and_exits_1(string flag, string problem)
    {
        var run = await _agent.RunAsync("catalog", "services", flag);
        Assert.Equal(1, run.Exit);
        Assert.Equal("", run.Stdout);
        Assert.StartsWith($"{problem}\nUsage: cluster catalog services [options]\n", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("\nHTTP API Options\n", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("\n  -http-addr=<address>\n", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(_agent.Requests);
    }

    [Fact]
    public async Task Help_goes_to_stdout_with_exit_code_0()
    {
        var run = await _agent.RunAsync("kv", "put", "-h");
        Assert.Equal(0, run.Exit);
        Assert.StartsWith("Usage: cluster kv put [options] KEY [DATA]\n", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("\n  -modify-index=<uint>\n", run.Stdout, StringComparison.Ordinal);
        Assert.Equal("", run.Stderr);
    }

    [Fact]
    public async Task A_double_dash_ends_the_flags()
    {
        _agent.Answer("GET", "/v1/kv/-odd", """[{"Key":"-odd","Value":"eA=="}]""");
        Assert.Equal(new CliRun(0, "x\n", ""), await _agent.RunAsync("kv", "get", "--", "-odd"));
    }

    [Fact]
    public async Task Groups_and_unknown_commands_list_what_there_is()
    {
        var top = await _agent.RunAsync();
        Assert.Equal(1, top.Exit);
        foreach (var verb in new[] { "catalog", "config", "keygen", "kv", "members", "operator" })
        {
            Assert.Contains($"\n    {verb,-10} ", top.Stderr, StringComparison.Ordinal);
        }

        var unknown = await _agent.RunAsync("kv", "frob");
        Assert.Equal(1, unknown.Exit);
        Assert.StartsWith("cluster kv: unknown subcommand \"frob\"\nUsage: cluster kv <subcommand> [options] [args]\n", unknown.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Integration")] // runs the built CLI as a dotnet process; the rest of the class is in-process
    public async Task The_executable_talks_to_the_agent_as_a_user_runs_it()
    {
        _agent.Answer("GET", "/v1/kv/greeting", """[{"Key":"greeting","Value":"aGVsbG8="}]""");
        var dll = PeerProcess.BuiltDll("Cluster.Cli", "cluster");
        var found = await PeerProcess.RunAsync("dotnet", [dll, "kv", "get", "-http-addr", _agent.Address, "greeting"], TimeSpan.FromSeconds(60));
        Assert.Equal((0, "hello\n", ""), found);

        var missing = await PeerProcess.RunAsync("dotnet", [dll, "kv", "get", $"-http-addr={_agent.Address}", "nothing"], TimeSpan.FromSeconds(60));
        Assert.Equal((1, "", "Error! No key exists at: nothing\n"), missing);
    }
}
