using System.Text.Json.Nodes;
using Cluster.Agent.Connect;
using Cluster.Agent.Http;
using Cluster.Server.Nodes;

namespace Cluster.Tests.Connect;

/// <summary>The service-intentions config entry: Consul's normalisation and validation, as tables.</summary>
public sealed class ServiceIntentionsEntryTests
{
    private static JsonObject Json(string text) => JsonNode.Parse(text, new JsonNodeOptions { PropertyNameCaseInsensitive = true })!.AsObject();

    private static JsonObject Stored(string text) => JsonNode.Parse(ConfigEntries.Validate(Json(text)).Json)!.AsObject();

    /// <summary>What ConfigEntries.Validate refuses, as the message a client sees (both exception types become a 400).</summary>
    private static string Refusal(string text)
    {
        var e = Assert.ThrowsAny<Exception>(() => ConfigEntries.Validate(Json(text)));
        Assert.True(e is ApiException { Status: 400 } or InvalidRequestException, $"{e.GetType().Name}: {e.Message}");
        return e.Message;
    }

    [Fact]
    public void Precedence_is_computed_and_sources_are_ordered_by_it_whatever_a_client_sends()
    {
        var entry = Stored("""
            {"Kind": "service-intentions", "Name": "db", "Sources": [
              {"Name": "*", "Action": "deny", "Precedence": 99},
              {"Name": "web", "Action": "allow"},
              {"Name": "*", "Namespace": "*", "Action": "deny"},
              {"Name": "api", "Namespace": "team", "Action": "allow", "Description": "team api"}
            ]}
            """);
        Assert.Equal(
            """{"Kind":"service-intentions","Name":"db","Sources":[{"Name":"web","Action":"allow","Precedence":9,"Type":"consul"},{"Name":"api","Namespace":"team","Action":"allow","Precedence":9,"Type":"consul","Description":"team api"},{"Name":"*","Action":"deny","Precedence":8,"Type":"consul"},{"Name":"*","Namespace":"*","Action":"deny","Precedence":7,"Type":"consul"}]}""",
            entry.ToJsonString());
    }

    [Fact]
    public void Snake_case_and_lower_case_are_read_and_methods_upper_cased()
    {
        var entry = Stored("""
            {"kind": "serviceintentions", "name": "api", "meta": {"Owner_Team": "core"}, "sources": [
              {"name": "web", "permissions": [
                {"action": "allow", "http": {"path_prefix": "/v1/", "methods": ["get", "Post"], "header": [{"name": "x-debug", "present": true, "invert": true}]}},
                {"action": "deny", "http": {"path_regex": "/admin/.*"}}
              ]}
            ]}
            """);
        Assert.Equal(
            """{"Kind":"service-intentions","Name":"api","Meta":{"Owner_Team":"core"},"Sources":[{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"PathPrefix":"/v1/","Header":[{"Name":"x-debug","Present":true,"Invert":true}],"Methods":["GET","POST"]}},{"Action":"deny","HTTP":{"PathRegex":"/admin/.*"}}],"Precedence":9,"Type":"consul"}]}""",
            entry.ToJsonString());
    }

    [Fact]
    public void A_config_write_drops_legacy_ids_and_times_as_Consul_does()
    {
        var entry = Stored("""
            {"Kind": "service-intentions", "Name": "db", "Sources": [
              {"Name": "web", "Action": "allow", "LegacyID": "5b2ef2a3-3a4b-4e2c-9b6c-2f5f0b0d3e11", "LegacyCreateTime": "2020-01-02T03:04:05Z", "LegacyUpdateTime": "2020-01-02T03:04:05Z"}
            ]}
            """);
        Assert.Equal("""{"Name":"web","Action":"allow","Precedence":9,"Type":"consul"}""", entry["Sources"]![0]!.ToJsonString());
    }

    [Fact]
    public void An_entry_in_another_namespace_is_stored_under_namespace_and_name_and_its_sources_inherit_it()
    {
        var stored = ConfigEntries.Validate(Json("""{"Kind": "service-intentions", "Name": "db", "Namespace": "team", "Sources": [{"Name": "web", "Action": "allow"}, {"Name": "ops", "Namespace": "default", "Action": "deny"}]}"""));
        Assert.Equal("team/db", stored.Name);
        var read = IntentionSet.Read(stored);
        Assert.Equal(new("team", "db"), read.Destination);
        Assert.Equal([new("team", "web"), new("default", "ops")], read.Sources.Select(s => s.Name));
    }

    [Fact]
    public void Writing_the_stored_form_again_stores_the_same_text()
    {
        const string body = """
            {"Kind": "service-intentions", "Name": "db", "Namespace": "team", "Meta": {"a": "b"}, "Sources": [
              {"Name": "*", "Namespace": "*", "Action": "deny"},
              {"Name": "web", "Peer": "east", "Action": "allow"},
              {"Name": "api", "Permissions": [{"Action": "allow", "HTTP": {"PathExact": "/x", "Header": [{"Name": "h", "Regex": "^a+$"}]}}]}
            ]}
            """;
        var first = ConfigEntries.Validate(Json(body));
        var again = ConfigEntries.Validate(Json(first.Json));
        Assert.Equal(first.Json, again.Json);
        Assert.Equal(first.Name, again.Name);
    }

    [Theory]
    [InlineData("""{"Kind": "service-intentions", "Name": "db"}""", "At least one source is required")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": []}""", "At least one source is required")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Action": "allow"}]}""", "Sources[0].Name is required")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web"}]}""", "Sources[0].Action must be set to 'allow' or 'deny'")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web", "Action": "permit"}]}""", "Sources[0].Action must be set to 'allow' or 'deny'")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web", "Action": "allow", "Permissions": [{"Action": "allow", "HTTP": {"PathExact": "/"}}]}]}""", "Sources[0].Action must be omitted if Permissions are specified")]
    [InlineData("""{"Kind": "service-intentions", "Name": "*", "Sources": [{"Name": "web", "Permissions": [{"Action": "allow", "HTTP": {"PathExact": "/"}}]}]}""", "Permissions cannot be specified on intentions with wildcarded destinations")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web", "Permissions": [{"Action": "maybe", "HTTP": {"PathExact": "/"}}]}]}""", "Sources[0].Permissions[0].Action must be set to 'allow' or 'deny'")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web", "Permissions": [{"Action": "allow"}]}]}""", "Sources[0].Permissions[0].HTTP is required")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web", "Permissions": [{"Action": "allow", "HTTP": {}}]}]}""", "Sources[0].Permissions[0].HTTP should not be empty")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web", "Permissions": [{"Action": "allow", "HTTP": {"PathExact": "x"}}]}]}""", "PathExact doesn't start with '/': \"x\"")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web", "Permissions": [{"Action": "allow", "HTTP": {"PathPrefix": "v1"}}]}]}""", "PathPrefix doesn't start with '/': \"v1\"")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web", "Permissions": [{"Action": "allow", "HTTP": {"PathExact": "/a", "PathPrefix": "/b"}}]}]}""", "should only contain at most one of PathExact, PathPrefix, or PathRegex")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web", "Permissions": [{"Action": "allow", "HTTP": {"PathRegex": "(unclosed"}}]}]}""", "PathRegex is not a valid regular expression")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web", "Permissions": [{"Action": "allow", "HTTP": {"PathRegex": "(a)\\1"}}]}]}""", "PathRegex is not a valid regular expression")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web", "Permissions": [{"Action": "allow", "HTTP": {"PathRegex": "/(?=admin)"}}]}]}""", "PathRegex is not a valid regular expression")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web", "Permissions": [{"Action": "allow", "HTTP": {"Header": [{"Exact": "x"}]}}]}]}""", "Header[0] missing required Name field")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web", "Permissions": [{"Action": "allow", "HTTP": {"Header": [{"Name": "h"}]}}]}]}""", "Header[0] should only contain one of Present, Exact, Prefix, Suffix, or Regex")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web", "Permissions": [{"Action": "allow", "HTTP": {"Header": [{"Name": "h", "Exact": "a", "Prefix": "b"}]}}]}]}""", "Header[0] should only contain one of Present, Exact, Prefix, Suffix, or Regex")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web", "Permissions": [{"Action": "allow", "HTTP": {"Header": [{"Name": "h", "Regex": "[z-a]"}]}}]}]}""", "Header[0].Regex is not a valid regular expression")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web", "Permissions": [{"Action": "allow", "HTTP": {"Methods": ["GET", "FETCH"]}}]}]}""", "Methods contains an invalid method \"FETCH\"")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web", "Permissions": [{"Action": "allow", "HTTP": {"Methods": ["get", "GET"]}}]}]}""", "Methods contains \"GET\" more than once")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web", "Action": "allow"}, {"Name": "web", "Action": "deny"}]}""", "Sources[1] defines \"web\" more than once")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web", "Peer": "east", "Action": "allow"}, {"Name": "web", "Peer": "east", "Action": "deny"}]}""", "defines peer(\"east\") \"web\" more than once")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web", "Namespace": "*", "Action": "allow"}]}""", "Sources[0].Name: exact value cannot follow wildcard namespace")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Namespace": "*", "Sources": [{"Name": "web", "Action": "allow"}]}""", "Name: exact value cannot follow wildcard namespace")]
    [InlineData("""{"Kind": "service-intentions", "Name": "web-*", "Sources": [{"Name": "a", "Action": "allow"}]}""", "Name: wildcard character '*' cannot be used with partial values")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "a", "Namespace": "te*", "Action": "allow"}]}""", "Sources[0].Namespace: wildcard character '*' cannot be used with partial values")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "a", "Peer": "*", "Action": "allow"}]}""", "Sources[0].Peer: cannot use wildcard '*' in peer")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "a", "SamenessGroup": "g", "Action": "allow"}]}""", "sameness groups are not supported")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "a", "Type": "external", "Action": "allow"}]}""", "Sources[0].Type must be set to 'consul'")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "a", "Action": "allow", "LegacyMeta": {"k": "v"}}]}""", "Sources[0].LegacyMeta must be omitted")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "a", "Action": "allow", "Colour": "blue"}]}""", "invalid config key \"Sources[0].Colour\"")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "a", "Permissions": [{"Action": "allow", "HTTP": {"PathExact": "/", "Query": "x"}}]}]}""", "invalid config key \"Sources[0].Permissions[0].HTTP.Query\"")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Colour": "blue", "Sources": [{"Name": "a", "Action": "allow"}]}""", "invalid config key \"Colour\"")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "JWT": {"Providers": [{"Name": "okta"}]}, "Sources": [{"Name": "a", "Action": "allow"}]}""", "JWT requirements are not supported")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Partition": "eu", "Sources": [{"Name": "a", "Action": "allow"}]}""", "admin partitions are not supported")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": 7, "Action": "allow"}]}""", "Sources[0].Name: expected a string")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": {"Name": "a"}}""", "Sources: expected an array")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": ["a"]}""", "Sources[0]: expected an object")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "a", "Action": "allow", "Precedence": "high"}]}""", "Sources[0].Precedence: expected a number")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "a", "Permissions": [{"Action": "allow", "HTTP": {"Header": [{"Name": "h", "Present": "yes"}]}}]}]}""", "Header[0].Present: expected a boolean")]
    [InlineData("""{"Kind": "service-intentions", "Name": "db", "Meta": {"a": 1}, "Sources": [{"Name": "a", "Action": "allow"}]}""", "Meta.a: expected a string")]
    public void Consul_refusals_are_400s_that_name_the_problem(string body, string expected) =>
        Assert.Contains(expected, Refusal(body), StringComparison.Ordinal);

    [Fact]
    public void Limits_on_description_and_meta_are_Consuls()
    {
        Assert.Contains("Sources[0].Description exceeds maximum length 512", Refusal($$"""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "a", "Action": "allow", "Description": "{{new string('d', 513)}}"}]}"""), StringComparison.Ordinal);
        _ = Stored($$"""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "a", "Action": "allow", "Description": "{{new string('d', 512)}}"}]}""");
        var meta = string.Join(", ", Enumerable.Range(0, 65).Select(i => $"\"k{i}\": \"v\""));
        Assert.Contains("Meta exceeds maximum element count 64", Refusal($$"""{"Kind": "service-intentions", "Name": "db", "Meta": {{{meta}}}, "Sources": [{"Name": "a", "Action": "allow"}]}"""), StringComparison.Ordinal);
        Assert.Contains("exceeds maximum length 128", Refusal($$"""{"Kind": "service-intentions", "Name": "db", "Meta": {"{{new string('k', 129)}}": "v"}, "Sources": [{"Name": "a", "Action": "allow"}]}"""), StringComparison.Ordinal);
    }

    [Fact]
    public void A_hostile_regex_is_accepted_only_because_the_engine_cannot_backtrack_and_an_oversized_one_is_refused()
    {
        // Catastrophic for a backtracking engine; linear for the non-backtracking one every match uses.
        _ = Stored("""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "a", "Permissions": [{"Action": "deny", "HTTP": {"PathRegex": "^(a+)+$"}}]}]}""");
        Assert.Contains("longer than 1024", Refusal($$$"""{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "a", "Permissions": [{"Action": "deny", "HTTP": {"PathRegex": "{{{new string('a', 1025)}}}"}}]}]}"""), StringComparison.Ordinal);
    }
}
