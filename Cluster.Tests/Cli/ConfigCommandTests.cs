using System.Text;
using System.Text.Json.Nodes;

namespace Cluster.Tests.Cli;

/// <summary>`cluster config write|read|list|delete` against a fake agent.</summary>
public sealed class ConfigCommandTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cluster-cli-").FullName;
    private FakeAgent _agent = null!;

    public async Task InitializeAsync() => _agent = await FakeAgent.StartAsync();

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Write_sends_an_hcl_file_as_json()
    {
        var file = await WriteFileAsync("web.hcl", """
            Kind     = "service-defaults"
            Name     = "web"
            Protocol = "http"
            MeshGateway {
              Mode = "local"
            }
            Meta = { owner = "team-a" }
            """);
        _agent.Answer("PUT", "/v1/config", "true");
        Assert.Equal(new CliRun(0, "Config entry written: service-defaults/web\n", ""), await _agent.RunAsync("config", "write", "-token=w", file));
        Assert.Equal("PUT /v1/config", _agent.Request.ToString());
        Assert.Equal("w", _agent.Request.Token);
        AssertJson("""{"Kind":"service-defaults","Name":"web","Protocol":"http","MeshGateway":{"Mode":"local"},"Meta":{"owner":"team-a"}}""", _agent.Request.Body);
    }

    [Fact]
    public async Task Write_reads_json_from_stdin_and_honours_cas()
    {
        const string json = """
            // Consul's lower-case spellings are the agent's to accept
            { "kind": "proxy-defaults", "name": "global", "config": { "protocol": "grpc" }, }
            """;
        _agent.Answer("PUT", "/v1/config", "false");
        var run = await _agent.RunAsync(Encoding.UTF8.GetBytes(json), "config", "write", "-cas", "-modify-index=3", "-");
        Assert.Equal(new CliRun(1, "", "Config entry not updated: proxy-defaults/global\n"), run);
        Assert.Equal("PUT /v1/config?cas=3", _agent.Request.ToString());
        AssertJson("""{"kind":"proxy-defaults","name":"global","config":{"protocol":"grpc"}}""", _agent.Request.Body);
    }

    [Fact]
    public async Task Write_refuses_bad_input_with_where_and_sends_nothing()
    {
        var broken = await WriteFileAsync("broken.hcl", "Kind = \"service-defaults\"\nName = \n");
        var run = await _agent.RunAsync("config", "write", broken);
        Assert.Equal(1, run.Exit);
        Assert.StartsWith($"Failed to decode config entry input: {broken}:2:", run.Stderr, StringComparison.Ordinal);

        var kindless = await WriteFileAsync("kindless.json", """{"Name":"web"}""");
        Assert.Equal(new CliRun(1, "", "Failed to decode config entry input: Payload does not contain a kind/Kind key at the top level\n"), await _agent.RunAsync("config", "write", kindless));
        Assert.Equal(new CliRun(1, "", "Failed to load data: open /no/such.hcl: no such file or directory\n"), await _agent.RunAsync("config", "write", "/no/such.hcl"));
        Assert.Equal(new CliRun(1, "", "Must provide exactly one positional argument to specify the config entry to write\n"), await _agent.RunAsync("config", "write"));
        Assert.Empty(_agent.Requests);
    }

    [Fact]
    public async Task Read_prints_the_entry_as_indented_json()
    {
        _agent.Answer("GET", "/v1/config/service-defaults/web", """{"Kind":"service-defaults","Name":"web","Protocol":"http","MeshGateway":{"Mode":"local"},"CreateIndex":7,"ModifyIndex":9}""");
        var run = await _agent.RunAsync("config", "read", "-kind", "service-defaults", "-name", "web", "-stale");
        Assert.Equal(new CliRun(0, """
            {
                "Kind": "service-defaults",
                "Name": "web",
                "Protocol": "http",
                "MeshGateway": {
                    "Mode": "local"
                },
                "CreateIndex": 7,
                "ModifyIndex": 9
            }

            """, ""), run);
        Assert.Equal("GET /v1/config/service-defaults/web?stale", _agent.Request.ToString());

        _agent.Answer("GET", "/v1/config/service-defaults/api", "Config entry not found for \"service-defaults\" / \"api\"", status: 404);
        Assert.Equal(
            new CliRun(1, "", "Error reading config entry service-defaults/api: Unexpected response code: 404 (Config entry not found for \"service-defaults\" / \"api\")\n"),
            await _agent.RunAsync("config", "read", "-kind=service-defaults", "-name=api"));
        Assert.Equal(new CliRun(1, "", "Must specify the -name parameter\n"), await _agent.RunAsync("config", "read", "-kind=service-defaults"));
    }

    [Fact]
    public async Task List_prints_the_names_of_one_kind()
    {
        _agent.Answer("GET", "/v1/config/service-defaults", """[{"Kind":"service-defaults","Name":"api"},{"Kind":"service-defaults","Name":"web"}]""");
        Assert.Equal(new CliRun(0, "api\nweb\n", ""), await _agent.RunAsync("config", "list", "-kind=service-defaults", "-datacenter", "dc2"));
        Assert.Equal("GET /v1/config/service-defaults?dc=dc2", _agent.Request.ToString());
        Assert.Equal(new CliRun(1, "", "Must specify the -kind parameter\n"), await _agent.RunAsync("config", "list"));
    }

    [Fact]
    public async Task Delete_removes_one_entry_with_or_without_cas()
    {
        _agent.Answer("DELETE", "/v1/config/service-defaults/web", "true");
        Assert.Equal(new CliRun(0, "Config entry deleted: service-defaults/web\n", ""), await _agent.RunAsync("config", "delete", "-kind=service-defaults", "-name=web"));
        Assert.Equal(new CliRun(0, "Config entry deleted: service-defaults/web\n", ""), await _agent.RunAsync("config", "delete", "-kind=service-defaults", "-name=web", "-cas", "-modify-index=9"));
        Assert.Equal(["DELETE /v1/config/service-defaults/web", "DELETE /v1/config/service-defaults/web?cas=9"], _agent.Requests.Select(r => r.ToString()));

        _agent.Answer("DELETE", "/v1/config/service-defaults/web", "false");
        Assert.Equal(new CliRun(1, "", "Config entry not deleted: service-defaults/web\n"), await _agent.RunAsync("config", "delete", "-kind=service-defaults", "-name=web", "-cas", "-modify-index=8"));
        Assert.Equal(new CliRun(1, "", "Cannot specify -modify-index without -cas\n"), await _agent.RunAsync("config", "delete", "-kind=service-defaults", "-name=web", "-modify-index=8"));
        Assert.Equal(3, _agent.Requests.Count);
    }

    private static void AssertJson(string expected, string actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"expected {expected}, sent {actual}");

    private async Task<string> WriteFileAsync(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        await File.WriteAllTextAsync(path, text);
        return path;
    }
}
