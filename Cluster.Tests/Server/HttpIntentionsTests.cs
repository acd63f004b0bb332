using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Cluster.Tests.Server;

/// <summary>
/// /v1/connect/intentions and /v1/agent/connect/authorize against a dev agent over loopback: the
/// intention API on top of service-intentions config entries, Consul's shapes and order,
/// precedence and deny through the API, validation that writes nothing, malformed input, and the
/// agent's authorize answered from its intention cache.
/// </summary>
[Trait("Category", "Integration")]
public sealed class HttpIntentionsTests(HttpAgentFixture agent) : IClassFixture<HttpAgentFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private Task<Reply> PostAsync(string path, string body) => agent.SendAsync(HttpMethod.Post, path, new StringContent(body, Encoding.UTF8));

    private string Uri(string service, string? domain = null) => $"spiffe://{domain ?? agent.CaTrustDomain}/ns/default/dc/dc1/svc/{service}";

    private async Task<(bool Authorized, string Reason)> AuthorizeAsync(string target, string clientUri)
    {
        var reply = await PostAsync("/v1/agent/connect/authorize", new JsonObject { ["Target"] = target, ["ClientCertURI"] = clientUri, ["ClientCertSerial"] = "0a:0b" }.ToJsonString());
        Assert.True(reply.Status == HttpStatusCode.OK, reply.ToString());
        Assert.Equal(["Authorized", "Reason"], reply.Json!.AsObject().Select(p => p.Key));
        return ((bool)reply.Json["Authorized"]!, (string)reply.Json["Reason"]!);
    }

    /// <summary>Waits (woken by each change, bounded) until the agent's intention cache has seen the entry's last write.</summary>
    private async Task CacheSeesAsync(string destination)
    {
        var entry = await agent.GetAsync($"/v1/config/service-intentions/{destination}");
        var index = entry.Status == HttpStatusCode.OK ? (ulong)entry.Json!["ModifyIndex"]! : entry.Index;
        var cache = agent.Host.Http.Intentions;
        cache.Start();
        while (true)
        {
            var changed = cache.Changed;
            if (cache.Current is { } current && current.Index >= index)
            {
                return;
            }

            await changed.WaitAsync(Bound);
        }
    }

    [Fact]
    public async Task A_config_entry_reads_back_normalised_and_as_Consuls_flattened_intentions()
    {
        var put = await agent.PutAsync("/v1/config", """
            {"Kind": "service-intentions", "Name": "ce-db", "Meta": {"owner": "dba"}, "Sources": [
              {"Name": "*", "Action": "deny", "Description": "closed by default"},
              {"Name": "ce-web", "Action": "allow"},
              {"Name": "ce-api", "Permissions": [{"Action": "allow", "HTTP": {"PathPrefix": "/v1/", "Methods": ["get"]}}]}
            ]}
            """);
        Assert.True(put.Status == HttpStatusCode.OK, put.ToString());
        Assert.Equal("true", put.Text);

        var entry = (await agent.GetAsync("/v1/config/service-intentions/ce-db")).Json!.AsObject();
        Assert.Equal(["Kind", "Name", "Meta", "Sources", "CreateIndex", "ModifyIndex"], entry.Select(p => p.Key));
        Assert.Equal([("ce-web", 9), ("ce-api", 9), ("*", 8)], entry["Sources"]!.AsArray().Select(s => ((string)s!["Name"]!, (int)s["Precedence"]!)));
        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync("/v1/config/serviceintentions/ce-db")).Status);

        var exact = await agent.GetAsync("/v1/connect/intentions/exact?source=ce-web&destination=ce-db");
        Assert.True(exact.Status == HttpStatusCode.OK, exact.ToString());
        var intention = exact.Json!.AsObject();
        Assert.Equal(
            ["Description", "SourceNS", "SourceName", "DestinationNS", "DestinationName", "SourceType", "Action", "Meta", "Precedence", "CreateIndex", "ModifyIndex"],
            intention.Select(p => p.Key));
        Assert.Equal(("default", "ce-web", "default", "ce-db", "consul", "allow", 9), ((string)intention["SourceNS"]!, (string)intention["SourceName"]!, (string)intention["DestinationNS"]!, (string)intention["DestinationName"]!, (string)intention["SourceType"]!, (string)intention["Action"]!, (int)intention["Precedence"]!));
        Assert.Equal("""{"owner":"dba"}""", intention["Meta"]!.ToJsonString());
        Assert.Equal((ulong)entry["ModifyIndex"]!, (ulong)intention["ModifyIndex"]!);

        var l7 = (await agent.GetAsync("/v1/connect/intentions/exact?source=ce-api&destination=ce-db")).Json!.AsObject();
        Assert.False(l7.ContainsKey("Action"));
        Assert.Equal("""[{"Action":"allow","HTTP":{"PathPrefix":"/v1/","Methods":["GET"]}}]""", l7["Permissions"]!.ToJsonString());

        var missing = await agent.GetAsync("/v1/connect/intentions/exact?source=ce-nobody&destination=ce-db");
        Assert.Equal((HttpStatusCode.NotFound, "Intention not found\n"), (missing.Status, missing.Text));
    }

    [Fact]
    public async Task Upsert_by_name_edits_the_destinations_entry_and_deleting_the_last_source_deletes_it()
    {
        Assert.Equal("true", (await agent.PutAsync("/v1/connect/intentions/exact?source=up-web&destination=up-db", """{"Action": "allow", "Description": "web reads"}""")).Text);
        Assert.Equal("true", (await agent.PutAsync("/v1/connect/intentions/exact?source=*&destination=up-db", """{"SourceType": "consul", "Action": "deny"}""")).Text);
        Assert.Equal("true", (await agent.PutAsync("/v1/connect/intentions/exact?source=up-web&destination=up-db", """{"Action": "deny", "ID": "ignored-legacy-id"}""")).Text);

        var entry = (await agent.GetAsync("/v1/config/service-intentions/up-db")).Json!;
        Assert.Equal("""[{"Name":"up-web","Action":"deny","Precedence":9,"Type":"consul"},{"Name":"*","Action":"deny","Precedence":8,"Type":"consul"}]""", entry["Sources"]!.ToJsonString());

        // Meta lives on the entry: the exact API may not invent it.
        var meta = await agent.PutAsync("/v1/connect/intentions/exact?source=up-api&destination=up-db", """{"Action": "allow", "Meta": {"a": "b"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, meta.Status);
        Assert.Contains("Meta must not be specified", meta.Text, StringComparison.Ordinal);

        Assert.Equal("true", (await agent.DeleteAsync("/v1/connect/intentions/exact?source=up-web&destination=up-db")).Text);
        Assert.Equal("true", (await agent.DeleteAsync("/v1/connect/intentions/exact?source=up-web&destination=up-db")).Text);
        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync("/v1/config/service-intentions/up-db")).Status);
        Assert.Equal("true", (await agent.DeleteAsync("/v1/connect/intentions/exact?source=*&destination=up-db")).Text);
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync("/v1/config/service-intentions/up-db")).Status);
    }

    [Fact]
    public async Task List_and_match_are_in_Consuls_order_and_match_follows_wildcards()
    {
        foreach (var (source, destination, action) in new[] { ("ord-b", "ord-db", "allow"), ("*", "ord-db", "deny"), ("ord-a", "ord-db", "allow"), ("ord-a", "*", "deny"), ("ord-a", "ord-cache", "allow") })
        {
            Assert.Equal("true", (await agent.PutAsync($"/v1/connect/intentions/exact?source={source}&destination={destination}", $$"""{"Action": "{{action}}"}""")).Text);
        }

        var list = await agent.GetAsync("/v1/connect/intentions");
        Assert.True(list.Index > 0);
        var ours = list.Json!.AsArray()
            .Where(i => ((string)i!["SourceName"]!).StartsWith("ord-", StringComparison.Ordinal) || ((string)i["DestinationName"]!).StartsWith("ord-", StringComparison.Ordinal))
            .Select(i => $"{i!["SourceName"]}>{i["DestinationName"]}:{i["Precedence"]}");
        Assert.Equal(["ord-a>ord-cache:9", "ord-a>ord-db:9", "ord-b>ord-db:9", "*>ord-db:8", "ord-a>*:6"], ours);

        var match = await agent.GetAsync("/v1/connect/intentions/match?by=destination&name=ord-db&name=default/ord-cache");
        Assert.Equal(["ord-db", "default/ord-cache"], match.Json!.AsObject().Select(p => p.Key));
        Assert.Equal(["ord-a>ord-db", "ord-b>ord-db", "*>ord-db"], Pairs(match.Json["ord-db"]!).Where(p => !p.EndsWith(">*", StringComparison.Ordinal)));
        Assert.Contains("ord-a>*", Pairs(match.Json["ord-db"]!));

        var bySource = await agent.GetAsync("/v1/connect/intentions/match?by=source&name=ord-a");
        Assert.Equal(["ord-a>ord-cache", "ord-a>ord-db", "*>ord-db", "ord-a>*"], Pairs(bySource.Json!["ord-a"]!).Where(p => p.Contains("ord-", StringComparison.Ordinal)));
        Assert.DoesNotContain((await agent.GetAsync("/v1/connect/intentions/match?by=destination&name=ord-nothing-matches-this")).Json!["ord-nothing-matches-this"]!.AsArray(), i => (string)i!["DestinationName"]! != "*");

        static IEnumerable<string> Pairs(JsonNode array) => array.AsArray().Select(i => $"{i!["SourceName"]}>{i["DestinationName"]}");
    }

    [Fact]
    public async Task Check_applies_precedence_deny_and_L7_through_the_API()
    {
        Assert.Equal("true", (await agent.PutAsync("/v1/connect/intentions/exact?source=*&destination=chk-db", """{"Action": "allow"}""")).Text);
        Assert.Equal("true", (await agent.PutAsync("/v1/connect/intentions/exact?source=chk-web&destination=chk-db", """{"Action": "deny"}""")).Text);
        Assert.Equal("true", (await agent.PutAsync("/v1/connect/intentions/exact?source=chk-api&destination=chk-db", """{"Permissions": [{"Action": "allow", "HTTP": {"PathPrefix": "/"}}]}""")).Text);
        Assert.Equal("true", (await agent.PutAsync("/v1/connect/intentions/exact?source=*&destination=*", """{"Action": "deny"}""")).Text);
        try
        {
            async Task<bool> Allowed(string source, string destination) =>
                (bool)(await agent.GetAsync($"/v1/connect/intentions/check?source={source}&destination={destination}")).Json!["Allowed"]!;

            Assert.False(await Allowed("chk-web", "chk-db")); // the exact deny outranks the wildcard allow
            Assert.True(await Allowed("chk-other", "chk-db")); // the destination's wildcard allow outranks */* deny
            Assert.False(await Allowed("chk-api", "chk-db")); // L7 permissions deny a whole connection
            Assert.False(await Allowed("chk-other", "chk-elsewhere")); // */* deny
            Assert.Equal(HttpStatusCode.BadRequest, (await agent.GetAsync("/v1/connect/intentions/check?source=a&destination=b&source-type=external")).Status);
        }
        finally
        {
            Assert.Equal("true", (await agent.DeleteAsync("/v1/connect/intentions/exact?source=*&destination=*")).Text);
        }
    }

    [Fact]
    public async Task The_legacy_API_creates_reads_updates_and_deletes_by_ID()
    {
        var created = await PostAsync("/v1/connect/intentions", """{"SourceName": "lg-web", "DestinationName": "lg-db", "Action": "allow", "Description": "first", "Meta": {"ticket": "42"}}""");
        Assert.True(created.Status == HttpStatusCode.OK, created.ToString());
        var id = (string)created.Json!["ID"]!;
        Assert.True(Guid.TryParse(id, out _));

        var read = (await agent.GetAsync($"/v1/connect/intentions/{id}")).Json!.AsObject();
        Assert.Equal((id, "first", "allow", """{"ticket":"42"}"""), ((string)read["ID"]!, (string)read["Description"]!, (string)read["Action"]!, read["Meta"]!.ToJsonString()));
        Assert.Contains("CreatedAt", read.Select(p => p.Key));
        var byName = (await agent.GetAsync("/v1/connect/intentions/exact?source=lg-web&destination=lg-db")).Json!;
        Assert.Equal(id, (string)byName["ID"]!);

        var duplicate = await PostAsync("/v1/connect/intentions", """{"SourceName": "lg-web", "DestinationName": "lg-db", "Action": "deny"}""");
        Assert.Equal(HttpStatusCode.BadRequest, duplicate.Status);
        Assert.Contains("more than once", duplicate.Text, StringComparison.Ordinal);

        var updated = await agent.PutAsync($"/v1/connect/intentions/{id}", """{"SourceName": "lg-web", "DestinationName": "lg-db", "Action": "deny"}""");
        Assert.True(updated.Status == HttpStatusCode.OK, updated.ToString());
        var after = (await agent.GetAsync($"/v1/connect/intentions/{id}")).Json!;
        Assert.Equal(("deny", (string)read["CreatedAt"]!), ((string)after["Action"]!, (string)after["CreatedAt"]!));
        var moved = await agent.PutAsync($"/v1/connect/intentions/{id}", """{"SourceName": "lg-web", "DestinationName": "lg-other", "Action": "deny"}""");
        Assert.Equal(HttpStatusCode.BadRequest, moved.Status);

        Assert.Equal(HttpStatusCode.OK, (await agent.DeleteAsync($"/v1/connect/intentions/{id}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync($"/v1/connect/intentions/{id}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await agent.DeleteAsync($"/v1/connect/intentions/{id}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync("/v1/config/service-intentions/lg-db")).Status);

        // A destination edited by name can no longer be edited through IDs (Consul's rule).
        Assert.Equal("true", (await agent.PutAsync("/v1/connect/intentions/exact?source=lg-api&destination=lg-db2", """{"Action": "allow"}""")).Text);
        var refused = await PostAsync("/v1/connect/intentions", """{"SourceName": "lg-web", "DestinationName": "lg-db2", "Action": "allow"}""");
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Contains("cannot use legacy intention API", refused.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PUT", "/v1/config", """{"Kind": "service-intentions", "Name": "v-db", "Sources": [{"Name": "web", "Action": "allow"}, {"Name": "web", "Action": "deny"}]}""", "defines \"web\" more than once")]
    [InlineData("PUT", "/v1/config", """{"Kind": "service-intentions", "Name": "v-db", "Sources": [{"Name": "web", "Permissions": [{"Action": "allow", "HTTP": {"PathRegex": "(?<=x)y"}}]}]}""", "not a valid regular expression")]
    [InlineData("PUT", "/v1/config", """{"Kind": "service-intentions", "Name": "v-db", "Sources": [{"Name": "web", "Namespace": "*", "Action": "allow"}]}""", "exact value cannot follow wildcard namespace")]
    [InlineData("PUT", "/v1/connect/intentions/exact?source=web&destination=v-db", """{"Action": "maybe"}""", "Action must be set to 'allow' or 'deny'")]
    [InlineData("PUT", "/v1/connect/intentions/exact?source=web&destination=v-db", """{"Action": "allow", "Permissions": [{"Action": "allow", "HTTP": {"PathExact": "/"}}]}""", "Action must be omitted if Permissions are specified")]
    [InlineData("PUT", "/v1/connect/intentions/exact?source=web&destination=v-db", """{"Permissions": [{"Action": "allow", "HTTP": {"Methods": ["BREW"]}}]}""", "invalid method \"BREW\"")]
    [InlineData("PUT", "/v1/connect/intentions/exact?source=web&destination=v-db", """{"Action": 1}""", "Action")]
    [InlineData("PUT", "/v1/connect/intentions/exact?source=web&destination=v-db", """{"Action": "allow", "SourcePeer": "east"}""", "SourcePeer")]
    [InlineData("PUT", "/v1/connect/intentions/exact?source=*/web&destination=v-db", """{"Action": "allow"}""", "exact value cannot follow wildcard namespace")]
    [InlineData("PUT", "/v1/connect/intentions/exact?source=web&destination=v-db", "[]", "expected a JSON object")]
    [InlineData("PUT", "/v1/connect/intentions/exact?source=web&destination=v-db", "{", "Request decode failed")]
    [InlineData("POST", "/v1/connect/intentions", """{"SourceName": "web", "DestinationName": "v-db", "Action": "allow", "ID": "9b3a3e40-0d8f-4c1e-8a43-1f9b1e1b2c3d"}""", "ID must be empty")]
    [InlineData("POST", "/v1/connect/intentions", """{"DestinationName": "v-db", "Action": "allow"}""", "SourceName must be set")]
    [InlineData("POST", "/v1/connect/intentions", """{"SourceName": "web", "DestinationName": "v-db"}""", "Action must be set to 'allow' or 'deny'")]
    [InlineData("POST", "/v1/connect/intentions", """{"SourceName": "web", "DestinationName": "v-db", "Action": "allow", "SourcePartition": "eu"}""", "partition")]
    public async Task Invalid_intentions_are_400s_naming_the_problem_and_write_nothing(string method, string path, string body, string expected)
    {
        var before = await agent.GetAsync("/v1/connect/intentions");
        var reply = await agent.SendAsync(new HttpMethod(method), path, new StringContent(body, Encoding.UTF8));
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Contains(expected, reply.Text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync("/v1/config/service-intentions/v-db")).Status);
        Assert.Equal(before.Index, (await agent.GetAsync("/v1/connect/intentions")).Index);
    }

    [Theory]
    [InlineData("GET", "/v1/connect/intentions/exact?destination=db", "required query parameter 'source' not set")]
    [InlineData("GET", "/v1/connect/intentions/exact?source=web&source=api&destination=db", "required query parameter 'source' not set")]
    [InlineData("DELETE", "/v1/connect/intentions/exact?source=web&destination=", "required query parameter 'destination' not set")]
    [InlineData("GET", "/v1/connect/intentions/exact?source=a/b/c/d&destination=db", "at most two '/'")]
    [InlineData("GET", "/v1/connect/intentions/exact?source=eu/default/web&destination=db", "admin partitions are not supported")]
    [InlineData("GET", "/v1/connect/intentions/check?source=peer:east/web&destination=db", "cannot specify a peer here")]
    [InlineData("GET", "/v1/connect/intentions/check?source=web", "required query parameter 'destination' not set")]
    [InlineData("GET", "/v1/connect/intentions/match?name=web", "required query parameter 'by' not set")]
    [InlineData("GET", "/v1/connect/intentions/match?by=sideways&name=web", "'by' parameter must be one of 'source' or 'destination'")]
    [InlineData("GET", "/v1/connect/intentions/match?by=source", "required query parameter 'name' not set")]
    [InlineData("GET", "/v1/connect/intentions/not-a-uuid", "Invalid UUID")]
    [InlineData("GET", "/v1/connect/intentions?dc=elsewhere", "No path to datacenter")]
    public async Task Malformed_parameters_are_refused(string method, string path, string expected)
    {
        var reply = await agent.SendAsync(new HttpMethod(method), path);
        Assert.True(reply.Status is HttpStatusCode.BadRequest or HttpStatusCode.InternalServerError, reply.ToString());
        Assert.Equal(path.Contains("dc=", StringComparison.Ordinal) ? HttpStatusCode.InternalServerError : HttpStatusCode.BadRequest, reply.Status);
        Assert.Contains(expected, reply.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authorize_answers_from_the_agents_cache_as_intentions_change()
    {
        Assert.Equal("true", (await agent.PutAsync("/v1/connect/intentions/exact?source=*&destination=az-db", """{"Action": "deny"}""")).Text);
        await CacheSeesAsync("az-db");
        Assert.Equal((false, "Matched L4 intention: * => az-db (deny)"), await AuthorizeAsync("az-db", Uri("az-web")));
        Assert.Equal((true, "ACLs disabled, access is allowed by default"), await AuthorizeAsync("az-other", Uri("az-web")));

        // An exact allow outranks the destination's wildcard deny.
        Assert.Equal("true", (await agent.PutAsync("/v1/connect/intentions/exact?source=az-web&destination=az-db", """{"Action": "allow"}""")).Text);
        await CacheSeesAsync("az-db");
        Assert.Equal((true, "Matched L4 intention: az-web => az-db (allow)"), await AuthorizeAsync("az-db", Uri("az-web")));
        Assert.False((await AuthorizeAsync("az-db", Uri("az-api"))).Authorized);

        Assert.Equal("true", (await agent.DeleteAsync("/v1/connect/intentions/exact?source=az-web&destination=az-db")).Text);
        await CacheSeesAsync("az-db");
        Assert.False((await AuthorizeAsync("az-db", Uri("az-web"))).Authorized);
    }

    [Fact]
    public async Task CVE_2021_36213_authorize_denies_a_connection_that_only_an_L7_intention_matches()
    {
        Assert.Equal("true", (await agent.PutAsync("/v1/config", """{"Kind": "service-defaults", "Name": "cve-db", "Protocol": "http"}""")).Text);
        Assert.Equal("true", (await agent.PutAsync("/v1/connect/intentions/exact?source=cve-web&destination=cve-db", """{"Permissions": [{"Action": "allow", "HTTP": {"PathPrefix": "/"}}]}""")).Text);
        await CacheSeesAsync("cve-db");
        var (authorized, reason) = await AuthorizeAsync("cve-db", Uri("cve-web"));
        Assert.False(authorized);
        Assert.StartsWith("Matched L7 intention: cve-web => cve-db", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Authorize_refuses_identities_from_another_trust_domain()
    {
        Assert.Equal("true", (await agent.PutAsync("/v1/connect/intentions/exact?source=td-web&destination=td-db", """{"Action": "allow"}""")).Text);
        await CacheSeesAsync("td-db");
        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync("/v1/agent/connect/ca/roots")).Status); // the agent knows its CA's trust domain
        Assert.True((await AuthorizeAsync("td-db", Uri("td-web"))).Authorized);
        Assert.Equal((false, "Identity from an external trust domain"), await AuthorizeAsync("td-db", Uri("td-web", "99999999-0000-0000-0000-000000000000.consul")));
    }

    [Theory]
    [InlineData("", "missing body")]
    [InlineData("[]", "expected a JSON object")]
    [InlineData("""{"ClientCertURI": "spiffe://d.consul/ns/default/dc/dc1/svc/web"}""", "Target service must be specified")]
    [InlineData("""{"Target": "db"}""", "ClientCertURI not a valid Connect identifier")]
    [InlineData("""{"Target": "db", "ClientCertURI": "not a uri"}""", "ClientCertURI not a valid Connect identifier")]
    [InlineData("""{"Target": "db", "ClientCertURI": "spiffe://d.consul/agent/client/dc/dc1/id/x"}""", "ClientCertURI not a valid Service identifier")]
    [InlineData("""{"Target": 5, "ClientCertURI": "spiffe://d.consul/ns/default/dc/dc1/svc/web"}""", "Target")]
    [InlineData("""{"Target": "db", "ClientCertURI": ["spiffe://d.consul/ns/default/dc/dc1/svc/web"]}""", "ClientCertURI")]
    public async Task Malformed_authorize_requests_are_400s(string body, string expected)
    {
        var reply = await PostAsync("/v1/agent/connect/authorize", body);
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Contains(expected, reply.Text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await agent.GetAsync("/v1/agent/connect/authorize")).Status);
    }

    /// <summary>Seeded mutations of valid intention bodies: a 2xx or a 4xx, never a 500, and everything written reads back.</summary>
    [Fact]
    public async Task Mutated_intention_bodies_never_cause_a_500()
    {
        (string Method, string Path, string Body)[] templates =
        [
            ("PUT", "/v1/config", """{"Kind": "service-intentions", "Name": "fz-db", "Meta": {"a": "b"}, "Sources": [{"Name": "fz-web", "Action": "allow"}, {"Name": "fz-api", "Permissions": [{"Action": "deny", "HTTP": {"PathRegex": "/a.*", "Methods": ["GET"], "Header": [{"Name": "x", "Suffix": "y"}]}}]}]}"""),
            ("PUT", "/v1/connect/intentions/exact?source=fz-web&destination=fz-cache", """{"SourceType": "consul", "Action": "deny", "Description": "d", "Permissions": null}"""),
            ("POST", "/v1/connect/intentions", """{"SourceName": "fz-web", "DestinationName": "fz-legacy", "SourceType": "consul", "Action": "allow", "Meta": {"k": "v"}}"""),
            ("POST", "/v1/agent/connect/authorize", """{"Target": "fz-db", "ClientCertURI": "spiffe://d.consul/ns/default/dc/dc1/svc/fz-web", "ClientCertSerial": "01"}"""),
        ];
        var random = new Random(1919);
        foreach (var (method, path, template) in templates)
        {
            var original = Encoding.UTF8.GetBytes(template);
            for (var round = 0; round < 40; round++)
            {
                var mutant = Mutate(random, original);
                var reply = await agent.SendAsync(new HttpMethod(method), path, new ByteArrayContent(mutant));
                Assert.True((int)reply.Status is 200 or 400 or 404 or 409 or 413, $"{method} {path} {Encoding.UTF8.GetString(mutant)} -> {reply}");
            }
        }

        foreach (var read in new[] { "/v1/connect/intentions", "/v1/config/service-intentions", "/v1/connect/intentions/match?by=source&name=fz-web" })
        {
            var reply = await agent.GetAsync(read);
            Assert.True(reply.Status == HttpStatusCode.OK, $"GET {read} -> {reply}");
        }
    }

    private static byte[] Mutate(Random random, byte[] original)
    {
        var bytes = new List<byte>(original);
        string[] tokens = ["null", "true", "-1", "\"\"", "{}", "[]", "\"*\"", "\"\\ud800\"", "\"(a)\\\\1\"", "\"deny\"", "\"GET\"", ",", ":"];
        for (var edits = random.Next(1, 4); edits > 0 && bytes.Count > 0; edits--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(4))
            {
                case 0:
                    bytes[at] = (byte)random.Next(32, 127);
                    break;
                case 1:
                    bytes.RemoveRange(at, Math.Min(random.Next(1, 8), bytes.Count - at));
                    break;
                case 2:
                    bytes.InsertRange(at, Encoding.UTF8.GetBytes(tokens[random.Next(tokens.Length)]));
                    break;
                default:
                    // Swap a quoted value for a token, keeping the JSON mostly well formed.
                    var quote = bytes.IndexOf((byte)':', at);
                    if (quote > 0 && quote + 1 < bytes.Count)
                    {
                        var end = bytes.FindIndex(quote + 1, b => b is (byte)',' or (byte)'}' or (byte)']');
                        if (end > quote)
                        {
                            bytes.RemoveRange(quote + 1, end - quote - 1);
                            bytes.InsertRange(quote + 1, Encoding.UTF8.GetBytes(tokens[random.Next(tokens.Length)]));
                        }
                    }

                    break;
            }
        }

        return [.. bytes];
    }
}
