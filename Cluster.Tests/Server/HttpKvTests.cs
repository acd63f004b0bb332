using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Cluster.Tests.Server;

/// <summary>/v1/kv and /v1/txn against a real single-server agent, checked against Consul's documented shapes.</summary>
[Trait("Category", "Integration")]
public sealed class HttpKvTests(HttpAgentFixture agent) : IClassFixture<HttpAgentFixture>
{
    private static readonly string[] KvFields = ["LockIndex", "Key", "Flags", "Value", "CreateIndex", "ModifyIndex"];

    [Fact]
    public async Task Put_then_get_answers_Consul_entry_shape_with_query_meta_headers()
    {
        var put = await agent.PutAsync("/v1/kv/shape/a", "hello");
        Assert.Equal(HttpStatusCode.OK, put.Status);
        Assert.Equal("true", put.Text);

        var get = await agent.GetAsync("/v1/kv/shape/a");
        Assert.Equal(HttpStatusCode.OK, get.Status);
        Assert.Equal("application/json", get.ContentHeaders.ContentType?.MediaType);
        var entries = get.Json!.AsArray();
        var entry = Assert.IsType<JsonObject>(Assert.Single(entries));
        Assert.Equal(KvFields, entry.Select(p => p.Key));
        Assert.Equal("shape/a", (string?)entry["Key"]);
        Assert.Equal(Convert.ToBase64String(Encoding.UTF8.GetBytes("hello")), (string?)entry["Value"]);
        Assert.Equal(0, (long)entry["Flags"]!);
        Assert.Equal(0, (long)entry["LockIndex"]!);
        Assert.Equal((ulong)entry["ModifyIndex"]!, (ulong)entry["CreateIndex"]!);
        Assert.Equal((ulong)entry["ModifyIndex"]!, get.Index);
        Assert.Equal("true", get.Header("X-Consul-KnownLeader"));
        Assert.Equal("0", get.Header("X-Consul-LastContact"));

        // A second write keeps CreateIndex and moves ModifyIndex.
        Assert.Equal("true", (await agent.PutAsync("/v1/kv/shape/a", "again")).Text);
        var again = (await agent.GetAsync("/v1/kv/shape/a")).Json![0]!;
        Assert.Equal((ulong)entry["CreateIndex"]!, (ulong)again["CreateIndex"]!);
        Assert.True((ulong)again["ModifyIndex"]! > (ulong)entry["ModifyIndex"]!);
    }

    [Fact]
    public async Task A_missing_key_is_404_with_an_empty_body_and_the_index_headers()
    {
        await agent.PutAsync("/v1/kv/missing-neighbour", "x");
        var get = await agent.GetAsync("/v1/kv/missing/never-written");
        Assert.Equal(HttpStatusCode.NotFound, get.Status);
        Assert.Empty(get.Body);
        Assert.True(get.Index > 0);
        Assert.Equal("true", get.Header("X-Consul-KnownLeader"));
        Assert.NotNull(get.Header("X-Consul-LastContact"));
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync("/v1/kv/missing/?recurse")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync("/v1/kv/missing/?keys")).Status);
    }

    [Fact]
    public async Task Raw_answers_the_bytes_and_an_empty_value_is_null()
    {
        byte[] bytes = [0, 1, 2, 255, 254, (byte)'{'];
        Assert.Equal("true", (await agent.PutAsync("/v1/kv/raw/bin", bytes)).Text);
        var raw = await agent.GetAsync("/v1/kv/raw/bin?raw");
        Assert.Equal(HttpStatusCode.OK, raw.Status);
        Assert.Equal(bytes, raw.Body);

        Assert.Equal("true", (await agent.PutAsync("/v1/kv/raw/empty")).Text);
        var empty = (await agent.GetAsync("/v1/kv/raw/empty")).Json![0]!;
        Assert.Null(empty["Value"]);
        Assert.True(empty.AsObject().ContainsKey("Value"));
    }

    [Fact]
    public async Task Flags_are_stored_up_to_uint64_max()
    {
        Assert.Equal("true", (await agent.PutAsync("/v1/kv/flags/a?flags=42", "x")).Text);
        Assert.Equal(42, (long)(await agent.GetAsync("/v1/kv/flags/a")).Json![0]!["Flags"]!);
        Assert.Equal("true", (await agent.PutAsync("/v1/kv/flags/b?flags=18446744073709551615", "x")).Text);
        Assert.Equal(ulong.MaxValue, (ulong)(await agent.GetAsync("/v1/kv/flags/b")).Json![0]!["Flags"]!);
    }

    [Fact]
    public async Task Cas_writes_only_at_the_index_given_and_zero_means_create()
    {
        Assert.Equal("true", (await agent.PutAsync("/v1/kv/cas/a?cas=0", "first")).Text);
        Assert.Equal("false", (await agent.PutAsync("/v1/kv/cas/a?cas=0", "second")).Text);
        Assert.Equal("first", await agent.KvValueAsync("cas/a"));

        var index = (ulong)(await agent.GetAsync("/v1/kv/cas/a")).Json![0]!["ModifyIndex"]!;
        Assert.Equal("false", (await agent.PutAsync($"/v1/kv/cas/a?cas={index - 1}", "stale")).Text);
        Assert.Equal("first", await agent.KvValueAsync("cas/a"));
        Assert.Equal("true", (await agent.PutAsync($"/v1/kv/cas/a?cas={index}", "third")).Text);
        Assert.Equal("third", await agent.KvValueAsync("cas/a"));
    }

    [Fact]
    public async Task Recurse_and_keys_with_a_separator_list_what_is_under_a_prefix()
    {
        foreach (var key in new[] { "tree/b", "tree/a/1", "tree/a/2", "tree/c/x/y", "treetop" })
        {
            Assert.Equal("true", (await agent.PutAsync($"/v1/kv/{key}", key)).Text);
        }

        var recurse = await agent.GetAsync("/v1/kv/tree/?recurse");
        Assert.Equal(HttpStatusCode.OK, recurse.Status);
        Assert.Equal(["tree/a/1", "tree/a/2", "tree/b", "tree/c/x/y"], recurse.Json!.AsArray().Select(e => (string)e!["Key"]!));
        Assert.All(recurse.Json!.AsArray(), e => Assert.Equal(KvFields, e!.AsObject().Select(p => p.Key)));
        Assert.Equal(recurse.Json!.AsArray().Max(e => (ulong)e!["ModifyIndex"]!), recurse.Index);

        var keys = await agent.GetAsync("/v1/kv/tree/?keys");
        Assert.Equal(["tree/a/1", "tree/a/2", "tree/b", "tree/c/x/y"], keys.Json!.AsArray().Select(k => (string)k!));
        var shallow = await agent.GetAsync("/v1/kv/tree/?keys&separator=/");
        Assert.Equal(["tree/a/", "tree/b", "tree/c/"], shallow.Json!.AsArray().Select(k => (string)k!));
        var prefix = await agent.GetAsync("/v1/kv/tree?keys&separator=/");
        Assert.Equal(["tree/", "treetop"], prefix.Json!.AsArray().Select(k => (string)k!));
    }

    [Fact]
    public async Task Delete_removes_one_key_a_tree_or_only_at_the_cas_index()
    {
        foreach (var key in new[] { "del/a", "del/b/1", "del/b/2", "del/c" })
        {
            await agent.PutAsync($"/v1/kv/{key}", "v");
        }

        var deleted = await agent.DeleteAsync("/v1/kv/del/a");
        Assert.Equal(HttpStatusCode.OK, deleted.Status);
        Assert.Equal("true", deleted.Text);
        Assert.Null(await agent.KvValueAsync("del/a"));

        Assert.Equal("true", (await agent.DeleteAsync("/v1/kv/del/b?recurse")).Text);
        Assert.Equal(["del/c"], (await agent.GetAsync("/v1/kv/del/?keys")).Json!.AsArray().Select(k => (string)k!));

        var index = (ulong)(await agent.GetAsync("/v1/kv/del/c")).Json![0]!["ModifyIndex"]!;
        Assert.Equal("false", (await agent.DeleteAsync($"/v1/kv/del/c?cas={index + 1}")).Text);
        Assert.Equal("v", await agent.KvValueAsync("del/c"));
        Assert.Equal("true", (await agent.DeleteAsync($"/v1/kv/del/c?cas={index}")).Text);
        Assert.Null(await agent.KvValueAsync("del/c"));

        // Deleting what is not there succeeds, as in Consul.
        Assert.Equal("true", (await agent.DeleteAsync("/v1/kv/del/never")).Text);
    }

    [Fact]
    public async Task Txn_applies_every_operation_and_answers_200_with_Results()
    {
        var body = new JsonArray(
            Op("set", "txn/ok/a", "aGVsbG8="),
            Op("set", "txn/ok/b", "d29ybGQ=", flags: 7),
            Op("get", "txn/ok/a"));
        var reply = await agent.PutAsync("/v1/txn", body.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var json = reply.Json!.AsObject();
        Assert.Equal(["Results", "Errors"], json.Select(p => p.Key));
        Assert.Null(json["Errors"]);
        var results = json["Results"]!.AsArray();
        Assert.Equal(3, results.Count);
        Assert.All(results, r => Assert.Equal(["KV"], r!.AsObject().Select(p => p.Key)));
        Assert.Equal("txn/ok/a", (string?)results[0]!["KV"]!["Key"]);
        Assert.Null(results[0]!["KV"]!["Value"]); // a write answers the metadata only
        Assert.Equal(7, (long)results[1]!["KV"]!["Flags"]!);
        Assert.Equal("aGVsbG8=", (string?)results[2]!["KV"]!["Value"]); // a get answers the value
        Assert.Equal("hello", await agent.KvValueAsync("txn/ok/a"));
        Assert.Equal("world", await agent.KvValueAsync("txn/ok/b"));
    }

    [Fact]
    public async Task Txn_rolls_back_on_a_failed_operation_with_409_Errors_and_OpIndex()
    {
        await agent.PutAsync("/v1/kv/txn/rb/existing", "before");
        var body = new JsonArray(
            Op("set", "txn/rb/new", "eA=="),
            Op("set", "txn/rb/existing", "eA=="),
            Op("check-not-exists", "txn/rb/existing"),
            Op("delete", "txn/rb/existing"));
        var reply = await agent.PutAsync("/v1/txn", body.ToJsonString());
        Assert.Equal(HttpStatusCode.Conflict, reply.Status);
        var json = reply.Json!.AsObject();
        Assert.Null(json["Results"]);
        var error = Assert.Single(json["Errors"]!.AsArray())!;
        Assert.Equal(["OpIndex", "What"], error.AsObject().Select(p => p.Key));
        Assert.Equal(2, (int)error["OpIndex"]!);
        Assert.False(string.IsNullOrEmpty((string?)error["What"]));
        Assert.Null(await agent.KvValueAsync("txn/rb/new"));
        Assert.Equal("before", await agent.KvValueAsync("txn/rb/existing"));

        var cas = await agent.PutAsync("/v1/txn", new JsonArray(Op("set", "txn/rb/new2", "eA=="), Op("cas", "txn/rb/existing", "eA==", index: 1)).ToJsonString());
        Assert.Equal(HttpStatusCode.Conflict, cas.Status);
        Assert.Equal(1, (int)cas.Json!["Errors"]![0]!["OpIndex"]!);
        Assert.Null(await agent.KvValueAsync("txn/rb/new2"));
    }

    [Fact]
    public async Task A_percent_encoded_key_is_decoded_exactly_once()
    {
        (string Path, string Key)[] cases =
        [
            ("enc/a%2541", "enc/a%41"),
            ("enc/b%2Fc", "enc/b/c"),
            ("enc/sp%20ace", "enc/sp ace"),
            ("enc/pct%25", "enc/pct%"),
            ("enc/lit%252F", "enc/lit%2F"),
            ("enc/%E2%9C%93", "enc/\u2713"),
        ];
        foreach (var (path, key) in cases)
        {
            Assert.Equal("true", (await agent.PutAsync($"/v1/kv/{path}", key)).Text);
            Assert.Equal(key, (string?)(await agent.GetAsync($"/v1/kv/{path}")).Json![0]!["Key"]);
        }

        var keys = (await agent.GetAsync("/v1/kv/enc/?keys")).Json!.AsArray().Select(k => (string)k!);
        Assert.Equal(cases.Select(c => c.Key).Order(StringComparer.Ordinal), keys);
        Assert.Equal("true", (await agent.DeleteAsync("/v1/kv/enc/a%2541")).Text);
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync("/v1/kv/enc/a%2541")).Status);
        Assert.Equal(cases.Length - 1, (await agent.GetAsync("/v1/kv/enc/?keys")).Json!.AsArray().Count);
    }

    [Fact]
    public async Task Txn_flags_take_the_whole_uint64_range_and_refuse_negatives()
    {
        var max = await agent.PutAsync("/v1/txn", """[{"KV": {"Verb": "set", "Key": "txn/flags/max", "Value": "eA==", "Flags": 18446744073709551615}}]""");
        Assert.Equal(HttpStatusCode.OK, max.Status);
        Assert.Equal(ulong.MaxValue, (ulong)(await agent.GetAsync("/v1/kv/txn/flags/max")).Json![0]!["Flags"]!);

        foreach (var bad in new[] { "\"Flags\": -1", "\"Flags\": 1.5", "\"Flags\": 18446744073709551616", "\"Index\": -1", "\"Flags\": \"1\"" })
        {
            var reply = await agent.PutAsync("/v1/txn", $$$"""[{"KV": {"Verb": "set", "Key": "txn/flags/bad", "Value": "eA==", {{{bad}}}}}]""");
            Assert.True(reply.Status == HttpStatusCode.BadRequest, $"{bad}: {reply}");
            Assert.Null(await agent.KvValueAsync("txn/flags/bad"));
        }
    }

    private static JsonObject Op(string verb, string key, string? value = null, long flags = 0, long index = 0)
    {
        var kv = new JsonObject { ["Verb"] = verb, ["Key"] = key };
        if (value is not null)
        {
            kv["Value"] = value;
        }

        if (flags != 0)
        {
            kv["Flags"] = flags;
        }

        if (index != 0)
        {
            kv["Index"] = index;
        }

        return new JsonObject { ["KV"] = kv };
    }
}
