using System.Text;
using System.Text.Json.Nodes;

namespace Cluster.Tests.Cli;

/// <summary>`cluster connect ca get-config|set-config` against a fake agent.</summary>
public sealed class ConnectCaCommandTests : IAsyncLifetime
{
    private const string Endpoint = "/v1/connect/ca/configuration";

    private const string Configuration = """
        {"ClusterID":"8a4c4b36-2f6e-4b0c-9d1a-3c2e7d5f6a10","Provider":"consul",
         "Config":{"LeafCertTTL":"72h0m0s","IntermediateCertTTL":"8760h0m0s","RootCertTTL":"87600h0m0s","PrivateKeyType":"ec","PrivateKeyBits":256,"CSRMaxPerSecond":50,"CSRMaxConcurrent":0},
         "State":null,"ForceWithoutCrossSigning":false,"CreateIndex":5,"ModifyIndex":12}
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("cluster-cli-").FullName;
    private FakeAgent _agent = null!;

    public async Task InitializeAsync() => _agent = await FakeAgent.StartAsync();

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Get_config_prints_consuls_fields_tab_indented_with_config_keys_sorted()
    {
        _agent.Answer("GET", Endpoint, Configuration);
        var run = await _agent.RunAsync("connect", "ca", "get-config", "-token=r", "-stale", "-datacenter=dc2");
        Assert.Equal(new CliRun(0, "{\n\t\"Provider\": \"consul\",\n\t\"Config\": {\n"
            + "\t\t\"CSRMaxConcurrent\": 0,\n\t\t\"CSRMaxPerSecond\": 50,\n\t\t\"IntermediateCertTTL\": \"8760h0m0s\",\n\t\t\"LeafCertTTL\": \"72h0m0s\",\n"
            + "\t\t\"PrivateKeyBits\": 256,\n\t\t\"PrivateKeyType\": \"ec\",\n\t\t\"RootCertTTL\": \"87600h0m0s\"\n\t},\n"
            + "\t\"State\": null,\n\t\"ForceWithoutCrossSigning\": false,\n\t\"CreateIndex\": 5,\n\t\"ModifyIndex\": 12\n}\n", ""), run);
        Assert.Equal($"GET {Endpoint}?dc=dc2&stale", _agent.Request.ToString());
        Assert.Equal("r", _agent.Request.Token);
    }

    [Fact]
    public async Task Get_config_reports_the_agents_error()
    {
        _agent.Answer("GET", Endpoint, "the Connect CA is not initialized yet", status: 500);
        Assert.Equal(
            new CliRun(1, "", "Error querying CA configuration: Unexpected response code: 500 (the Connect CA is not initialized yet)\n"),
            await _agent.RunAsync("connect", "ca", "get-config"));
        Assert.Equal(new CliRun(1, "", "Too many arguments (expected 0, got 1)\n"), await _agent.RunAsync("connect", "ca", "get-config", "extra"));
        Assert.Single(_agent.Requests);
    }

    [Fact]
    public async Task Set_config_puts_the_file_as_consuls_client_does()
    {
        var file = await WriteFileAsync("ca.json", """
            {
              "provider": "consul",
              "Config": { "LeafCertTTL": "24h", "PrivateKeyType": "rsa", "PrivateKeyBits": 4096, "CSRMaxPerSecond": 0.5 },
              "ForceWithoutCrossSigning": true
            }
            """);
        _agent.Answer("PUT", Endpoint, "");
        Assert.Equal(new CliRun(0, "Configuration updated!\n", ""), await _agent.RunAsync("connect", "ca", "set-config", "-token=w", "-config-file", file));
        Assert.Equal($"PUT {Endpoint}", _agent.Request.ToString());
        Assert.Equal("w", _agent.Request.Token);
        AssertJson(
            """
            {"Provider":"consul","Config":{"LeafCertTTL":"24h","PrivateKeyType":"rsa","PrivateKeyBits":4096,"CSRMaxPerSecond":0.5},
             "State":null,"ForceWithoutCrossSigning":false,"CreateIndex":0,"ModifyIndex":0}
            """,
            _agent.Request.Body);

        // The flag, not the file, asks for a reconfiguration without cross-signing; stdin is "-".
        Assert.Equal(new CliRun(0, "Configuration updated!\n", ""), await _agent.RunAsync(Encoding.UTF8.GetBytes("{}"), "connect", "ca", "set-config", "-force-without-cross-signing", "-config-file=-"));
        AssertJson("""{"Provider":"","Config":null,"State":null,"ForceWithoutCrossSigning":true,"CreateIndex":0,"ModifyIndex":0}""", _agent.Requests[1].Body);
    }

    [Fact]
    public async Task Set_config_reports_the_agents_refusal()
    {
        // A key that is not Consul's goes as written, for the agent to refuse by name.
        var file = await WriteFileAsync("typo.json", """{"Provider":"consul","Confg":{"LeafCertTTL":"24h"}}""");
        _agent.Answer("PUT", Endpoint, "Request decode failed: unknown CA configuration key \"Confg\"", status: 400);
        Assert.Equal(
            new CliRun(1, "", "Error setting CA configuration: Unexpected response code: 400 (Request decode failed: unknown CA configuration key \"Confg\")\n"),
            await _agent.RunAsync("connect", "ca", "set-config", "-config-file", file));
        AssertJson(
            """{"Provider":"consul","Config":null,"State":null,"ForceWithoutCrossSigning":false,"CreateIndex":0,"ModifyIndex":0,"Confg":{"LeafCertTTL":"24h"}}""",
            _agent.Request.Body);
    }

    [Fact]
    public async Task Set_config_sends_nothing_for_a_file_it_cannot_use()
    {
        Assert.Equal(new CliRun(1, "", "The -config-file flag is required\n"), await _agent.RunAsync("connect", "ca", "set-config"));
        Assert.Equal(new CliRun(1, "", "Too many arguments (expected 0, got 1)\n"), await _agent.RunAsync("connect", "ca", "set-config", "ca.json"));
        Assert.Equal(
            new CliRun(1, "", "Error reading config file: open /no/such/ca.json: no such file or directory\n"),
            await _agent.RunAsync("connect", "ca", "set-config", "-config-file=/no/such/ca.json"));
        Assert.Equal(new CliRun(1, "", $"Error reading config file: read {_directory}: is a directory\n"), await _agent.RunAsync("connect", "ca", "set-config", "-config-file", _directory));

        var malformed = await WriteFileAsync("malformed.json", "{\n  \"Provider\": \"consul\",\n  \"Config\": { \"LeafCertTTL\": 24h }\n}\n");
        var run = await _agent.RunAsync("connect", "ca", "set-config", "-config-file", malformed);
        Assert.Equal(1, run.Exit);
        Assert.StartsWith($"Error parsing config file: {malformed}:3:32: ", run.Stderr, StringComparison.Ordinal);

        var hcl = await WriteFileAsync("ca.hcl", "Provider = \"consul\"\n");
        run = await _agent.RunAsync("connect", "ca", "set-config", "-config-file", hcl);
        Assert.Equal(1, run.Exit);
        Assert.StartsWith($"Error parsing config file: {hcl}:1:1: ", run.Stderr, StringComparison.Ordinal);

        var empty = await WriteFileAsync("empty.json", "");
        Assert.Equal(
            new CliRun(1, "", $"Error parsing config file: {empty}:1:1: the file is empty: a JSON configuration is an object\n"),
            await _agent.RunAsync("connect", "ca", "set-config", "-config-file", empty));

        var wrongType = await WriteFileAsync("wrong.json", "{\"Provider\": \"consul\",\n \"Config\": \"LeafCertTTL=24h\"}");
        Assert.Equal(
            new CliRun(1, "", $"Error parsing config file: {wrongType}:2:12: Config: expected an object, got a string\n"),
            await _agent.RunAsync("connect", "ca", "set-config", "-config-file", wrongType));

        var twice = await WriteFileAsync("twice.json", """{"Provider": "consul", "provider": "vault"}""");
        Assert.Equal(
            new CliRun(1, "", $"Error parsing config file: {twice}:1:24: Provider is given twice (as \"Provider\" and \"provider\")\n"),
            await _agent.RunAsync("connect", "ca", "set-config", "-config-file", twice));

        Assert.Empty(_agent.Requests);
    }

    [Fact]
    public async Task Connect_and_connect_ca_alone_or_unknown_list_their_subcommands()
    {
        var connect = await _agent.RunAsync("connect");
        Assert.Equal(1, connect.Exit);
        Assert.StartsWith("Usage: cluster connect <subcommand> [options] [args]\n", connect.Stderr, StringComparison.Ordinal);
        Assert.Contains("\n    ca    Interact with the Connect Certificate Authority (CA)\n", connect.Stderr, StringComparison.Ordinal);

        var ca = await _agent.RunAsync("connect", "ca");
        Assert.Equal(1, ca.Exit);
        Assert.StartsWith("Usage: cluster connect ca <subcommand> [options] [args]\n", ca.Stderr, StringComparison.Ordinal);
        Assert.Contains("\n    get-config    Display the current Connect CA configuration\n    set-config    Modify the current Connect CA configuration\n", ca.Stderr, StringComparison.Ordinal);

        var unknown = await _agent.RunAsync("connect", "ca", "rotate");
        Assert.Equal(1, unknown.Exit);
        Assert.StartsWith("cluster connect ca: unknown subcommand \"rotate\"\nUsage: cluster connect ca <subcommand>", unknown.Stderr, StringComparison.Ordinal);
        Assert.StartsWith("cluster connect: unknown subcommand \"proxy\"\n", (await _agent.RunAsync("connect", "proxy")).Stderr, StringComparison.Ordinal);

        var asked = await _agent.RunAsync("connect", "ca", "-h");
        Assert.Equal((0, ""), (asked.Exit, asked.Stderr));
        Assert.StartsWith("Usage: cluster connect ca <subcommand>", asked.Stdout, StringComparison.Ordinal);

        var help = await _agent.RunAsync("connect", "ca", "set-config", "-h");
        Assert.Equal(0, help.Exit);
        Assert.StartsWith("Usage: cluster connect ca set-config [options]\n", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("\n  -config-file=<path>\n", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("\n  -force-without-cross-signing\n", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("\n  -http-addr=<address>\n", help.Stdout, StringComparison.Ordinal);

        Assert.Contains("\n    connect    Interact with Connect, the service mesh\n", (await _agent.RunAsync()).Stderr, StringComparison.Ordinal);
        Assert.Empty(_agent.Requests);
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
