using System.Text;
using System.Text.Json.Nodes;

namespace Cluster.Tests.Cli;

/// <summary>`cluster intention create|get|check|list|delete|match` against a fake agent: the exact requests, output and exit codes.</summary>
public sealed class IntentionCommandTests : IAsyncLifetime
{
    private const string Id = "e9ebc19f-d481-42b1-4871-4d298d3acd5c";
    private readonly string _directory = Directory.CreateTempSubdirectory("cluster-cli-").FullName;
    private FakeAgent _agent = null!;

    public async Task InitializeAsync() => _agent = await FakeAgent.StartAsync();

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private static void AssertJson(string expected, string actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"expected {expected}, sent {actual}");

    [Fact]
    public async Task Create_posts_an_allow_intention_by_default_and_says_what_it_created()
    {
        _agent.Answer("POST", "/v1/connect/intentions", $$"""{"ID": "{{Id}}"}""");
        Assert.Equal(new CliRun(0, "Created: web => db (allow)\n", ""), await _agent.RunAsync("intention", "create", "-token=t", "web", "db"));
        Assert.Equal("POST /v1/connect/intentions", _agent.Request.ToString());
        Assert.Equal("t", _agent.Request.Token);
        AssertJson("""{"SourceName": "web", "DestinationName": "db", "SourceType": "consul", "Action": "allow"}""", _agent.Request.Body);
    }

    [Fact]
    public async Task Create_deny_with_meta_and_namespaces()
    {
        _agent.Answer("POST", "/v1/connect/intentions", $$"""{"ID": "{{Id}}"}""");
        Assert.Equal(new CliRun(0, "Created: team/web => db (deny)\n", ""), await _agent.RunAsync("intention", "create", "-deny", "-meta", "ticket=42", "-meta=owner=ops", "team/web", "default/db"));
        AssertJson("""{"SourceNS": "team", "SourceName": "web", "DestinationNS": "default", "DestinationName": "db", "SourceType": "consul", "Action": "deny", "Meta": {"ticket": "42", "owner": "ops"}}""", _agent.Request.Body);
    }

    [Fact]
    public async Task Create_refuses_bad_arguments_before_sending_anything()
    {
        Assert.Equal(new CliRun(1, "", "Only one of -allow or -deny may be specified.\n"), await _agent.RunAsync("intention", "create", "-allow", "-deny", "web", "db"));
        Assert.Equal(new CliRun(1, "", "Error: Must specify two arguments: source and destination\n"), await _agent.RunAsync("intention", "create", "web"));
        Assert.Equal(new CliRun(1, "", "Error: Invalid intention source: input can contain at most two '/'\n"), await _agent.RunAsync("intention", "create", "a/b/c/d", "db"));
        Assert.Equal(new CliRun(1, "", "Error: open /no/such.json: no such file or directory\n"), await _agent.RunAsync("intention", "create", "-file", "/no/such.json"));
        var l7 = Path.Combine(_directory, "l7.json");
        await File.WriteAllTextAsync(l7, """{"SourceName": "web", "DestinationName": "db", "Permissions": [{"Action": "allow", "HTTP": {"PathPrefix": "/"}}]}""");
        Assert.Equal(new CliRun(1, "", $"Error: cannot create L7 intention from file \"{l7}\" using this CLI; use 'cluster config write' instead\n"), await _agent.RunAsync("intention", "create", "-file", l7));
        var badMeta = await _agent.RunAsync("intention", "create", "-meta", "novalue", "web", "db");
        Assert.Equal(1, badMeta.Exit);
        Assert.StartsWith("invalid value \"novalue\" for flag -meta", badMeta.Stderr, StringComparison.Ordinal);
        Assert.Empty(_agent.Requests);
    }

    [Fact]
    public async Task Create_from_files_and_stdin_sends_each_intention()
    {
        var file = Path.Combine(_directory, "one.json");
        await File.WriteAllTextAsync(file, """{"sourcename": "web", "DestinationName": "db", "Action": "deny", "Description": "no", "Colour": "ignored"}""");
        _agent.Answer("POST", "/v1/connect/intentions", $$"""{"ID": "{{Id}}"}""");
        var run = await _agent.RunAsync(Encoding.UTF8.GetBytes("""{"SourceName": "api", "DestinationName": "db", "Action": "allow"}"""), "intention", "create", "-file", file, "-");
        Assert.Equal(new CliRun(0, "Created: web => db (deny)\nCreated: api => db (allow)\n", ""), run);
        Assert.Equal(2, _agent.Requests.Count);
        AssertJson("""{"SourceName": "web", "DestinationName": "db", "Action": "deny", "Description": "no"}""", _agent.Requests[0].Body);
    }

    [Fact]
    public async Task Create_replace_updates_a_legacy_intention_by_ID_and_one_written_by_name_by_name()
    {
        _agent.Answer("GET", "/v1/connect/intentions/exact", $$"""{"ID": "{{Id}}", "SourceNS": "default", "SourceName": "web", "DestinationNS": "default", "DestinationName": "db", "Action": "allow"}""");
        _agent.Answer("PUT", $"/v1/connect/intentions/{Id}", "");
        Assert.Equal(new CliRun(0, "", ""), await _agent.RunAsync("intention", "create", "-deny", "-replace", "web", "db"));
        Assert.Equal(["GET /v1/connect/intentions/exact?destination=db&source=web", $"PUT /v1/connect/intentions/{Id}"], _agent.Requests.Select(r => r.ToString()));
        AssertJson($$"""{"ID": "{{Id}}", "SourceName": "web", "DestinationName": "db", "SourceType": "consul", "Action": "deny"}""", _agent.Requests[1].Body);

        _agent.Answer("GET", "/v1/connect/intentions/exact", """{"SourceNS": "default", "SourceName": "api", "DestinationNS": "default", "DestinationName": "db", "Action": "allow"}""");
        _agent.Answer("PUT", "/v1/connect/intentions/exact", "true");
        Assert.Equal(new CliRun(0, "", ""), await _agent.RunAsync("intention", "create", "-deny", "-replace", "api", "db"));
        Assert.Equal("PUT /v1/connect/intentions/exact?destination=db&source=api", _agent.Requests[^1].ToString());
        AssertJson("""{"SourceType": "consul", "Action": "deny"}""", _agent.Requests[^1].Body);
    }

    [Fact]
    public async Task Create_replace_of_nothing_creates_and_agent_refusals_are_reported()
    {
        _agent.Answer("POST", "/v1/connect/intentions", "cannot use legacy intention API to edit intentions with a destination of \"db\"", status: 400);
        var run = await _agent.RunAsync("intention", "create", "-replace", "web", "db");
        Assert.Equal(new CliRun(1, "", "Error creating intention \"web => db (allow)\": Unexpected response code: 400 (cannot use legacy intention API to edit intentions with a destination of \"db\")\n"), run);
        Assert.Equal(["GET /v1/connect/intentions/exact?destination=db&source=web", "POST /v1/connect/intentions"], _agent.Requests.Select(r => r.ToString()));
    }

    [Fact]
    public async Task Get_shows_the_intention_as_Consuls_table()
    {
        _agent.Answer("GET", "/v1/connect/intentions/exact", """
            {"Description": "web reads", "SourceNS": "default", "SourceName": "web", "DestinationNS": "team", "DestinationName": "db", "SourceType": "consul",
             "Action": "allow", "Meta": {"z": "1", "a": "2"}, "Precedence": 9, "CreateIndex": 5, "ModifyIndex": 6}
            """);
        Assert.Equal(new CliRun(0, """
            Source:       web
            Destination:  team/db
            Action:       allow
            Description:  web reads
            Meta[a]:      2
            Meta[z]:      1
            Created At:   Monday, 01-Jan-01 00:00:00 UTC

            """, ""), await _agent.RunAsync("intention", "get", "web", "team/db"));
        Assert.Equal("GET /v1/connect/intentions/exact?destination=team%2Fdb&source=web", _agent.Request.ToString());
    }

    [Fact]
    public async Task Get_by_ID_shows_the_legacy_fields_and_L7_permissions()
    {
        _agent.Answer("GET", $"/v1/connect/intentions/{Id}", $$$"""
            {"ID": "{{{Id}}}", "Description": "", "SourceNS": "default", "SourceName": "web", "DestinationNS": "default", "DestinationName": "db", "SourceType": "consul",
             "Permissions": [{"Action": "allow", "HTTP": {"PathPrefix": "/v1"}}], "Meta": {}, "Precedence": 9, "CreatedAt": "2026-03-04T05:06:07.5Z"}
            """);
        Assert.Equal(new CliRun(0, $$"""
            Source:       web
            Destination:  db
            ID:           {{Id}}
            Created At:   Wednesday, 04-Mar-26 05:06:07 UTC
            Permissions:
            [
              {
                "Action": "allow",
                "HTTP": {
                  "PathPrefix": "/v1"
                }
              }
            ]

            """, ""), await _agent.RunAsync("intention", "get", Id));
    }

    [Fact]
    public async Task Get_reports_what_it_could_not_find()
    {
        Assert.Equal(new CliRun(1, "", "Intention not found with source \"web\" and destination \"db\"\n"), await _agent.RunAsync("intention", "get", "web", "db"));
        Assert.Equal(new CliRun(1, "", $"Intention not found with ID \"{Id}\"\n"), await _agent.RunAsync("intention", "get", Id));
        Assert.Equal(new CliRun(1, "", "command requires exactly 1 or 2 arguments\n"), await _agent.RunAsync("intention", "get"));
        _agent.Answer("GET", "/v1/connect/intentions/nope", "Invalid UUID: \"nope\"", status: 400);
        Assert.Equal(new CliRun(1, "", "Error reading the intention: Unexpected response code: 400 (Invalid UUID: \"nope\")\n"), await _agent.RunAsync("intention", "get", "nope"));
    }

    [Fact]
    public async Task Check_prints_allowed_or_denied_with_Consuls_exit_codes()
    {
        _agent.Answer("GET", "/v1/connect/intentions/check", """{"Allowed": true}""");
        Assert.Equal(new CliRun(0, "Allowed\n", ""), await _agent.RunAsync("intention", "check", "web", "db"));
        Assert.Equal("GET /v1/connect/intentions/check?destination=db&source=web&source-type=consul", _agent.Request.ToString());
        _agent.Answer("GET", "/v1/connect/intentions/check", """{"Allowed": false}""");
        Assert.Equal(new CliRun(1, "Denied\n", ""), await _agent.RunAsync("intention", "check", "web", "db"));

        Assert.Equal(new CliRun(2, "", "Error: command requires exactly two arguments: src and dst\n"), await _agent.RunAsync("intention", "check", "web"));
        Assert.Equal(2, (await _agent.RunAsync("intention", "check", "-bogus", "web", "db")).Exit);
        _agent.Answer("GET", "/v1/connect/intentions/check", "No cluster leader", status: 500);
        Assert.Equal(new CliRun(2, "", "Error checking the connection: Unexpected response code: 500 (No cluster leader)\n"), await _agent.RunAsync("intention", "check", "web", "db"));
    }

    [Fact]
    public async Task List_prints_Consuls_table_and_exits_2_when_there_are_none()
    {
        _agent.Answer("GET", "/v1/connect/intentions", $$"""
            [{"ID": "{{Id}}", "SourceName": "web", "DestinationName": "db", "Action": "allow", "Precedence": 9},
             {"SourceName": "api", "DestinationName": "db", "Permissions": [{"Action": "deny"}], "Precedence": 9},
             {"SourceName": "*", "DestinationName": "*", "Action": "deny", "Precedence": 1}]
            """);
        Assert.Equal(new CliRun(0, $$"""
            ID                                    Source  Action  Destination  Precedence
            {{Id}}  web     allow   db           9
                                                  api             db           9
                                                  *       deny    *            1

            """, ""), await _agent.RunAsync("intention", "list"));

        _agent.Answer("GET", "/v1/connect/intentions", "[]");
        Assert.Equal(new CliRun(2, "", "There are no intentions.\n"), await _agent.RunAsync("intention", "list"));
    }

    [Fact]
    public async Task Delete_by_names_or_by_ID()
    {
        _agent.Answer("DELETE", "/v1/connect/intentions/exact", "true").Answer("DELETE", $"/v1/connect/intentions/{Id}", "");
        Assert.Equal(new CliRun(0, "Intention deleted.\n", ""), await _agent.RunAsync("intention", "delete", "web", "db"));
        Assert.Equal(new CliRun(0, "Intention deleted.\n", ""), await _agent.RunAsync("intention", "delete", Id));
        Assert.Equal(["DELETE /v1/connect/intentions/exact?destination=db&source=web", $"DELETE /v1/connect/intentions/{Id}"], _agent.Requests.Select(r => r.ToString()));
        Assert.Equal(new CliRun(1, "", "command requires exactly 1 or 2 arguments\n"), await _agent.RunAsync("intention", "delete", "a", "b", "c"));
        Assert.Equal(new CliRun(1, "", "Error deleting the intention: Unexpected response code: 404 ()\n"), await _agent.RunAsync("intention", "delete", "e9ebc19f-0000-0000-0000-000000000000"));
    }

    [Fact]
    public async Task Match_lists_in_evaluation_order_by_destination_or_source()
    {
        _agent.Answer("GET", "/v1/connect/intentions/match", """
            {"db": [{"SourceNS": "default", "SourceName": "web", "DestinationNS": "default", "DestinationName": "db", "Action": "deny"},
                    {"SourceNS": "team", "SourceName": "*", "DestinationNS": "default", "DestinationName": "db", "Action": "allow"},
                    {"SourceNS": "default", "SourceName": "api", "DestinationNS": "default", "DestinationName": "db"}]}
            """);
        Assert.Equal(new CliRun(0, "web => db (deny)\nteam/* => db (allow)\napi => db ()\n", ""), await _agent.RunAsync("intention", "match", "db"));
        Assert.Equal("GET /v1/connect/intentions/match?by=destination&name=db", _agent.Request.ToString());
        _agent.Answer("GET", "/v1/connect/intentions/match", """{"web": []}""");
        Assert.Equal(new CliRun(0, "", ""), await _agent.RunAsync("intention", "match", "-source", "web"));
        Assert.Equal("GET /v1/connect/intentions/match?by=source&name=web", _agent.Requests[^1].ToString());
        Assert.Equal(new CliRun(1, "", "Error: only one of -source or -destination may be specified\n"), await _agent.RunAsync("intention", "match", "-source", "-destination", "web"));
        Assert.Equal(new CliRun(1, "", "Error: command requires exactly one argument: src or dst\n"), await _agent.RunAsync("intention", "match"));
    }
}
