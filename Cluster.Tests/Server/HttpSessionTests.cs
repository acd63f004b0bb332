using System.Net;
using System.Text.Json.Nodes;

namespace Cluster.Tests.Server;

/// <summary>/v1/session and KV locks held by sessions.</summary>
[Trait("Category", "Integration")]
public sealed class HttpSessionTests(HttpAgentFixture agent) : IClassFixture<HttpAgentFixture>
{
    private static readonly string[] SessionFields = ["ID", "Name", "Node", "LockDelay", "Behavior", "TTL", "NodeChecks", "ServiceChecks", "Checks", "CreateIndex", "ModifyIndex"];

    private async Task<string> CreateAsync(string body)
    {
        var reply = await agent.PutAsync("/v1/session/create", body);
        Assert.True(reply.Status == HttpStatusCode.OK, reply.ToString());
        var json = reply.Json!.AsObject();
        Assert.Equal(["ID"], json.Select(p => p.Key));
        var id = (string)json["ID"]!;
        Assert.True(Guid.TryParse(id, out _));
        return id;
    }

    private async Task<int> SessionCountAsync() => (await agent.GetAsync("/v1/session/list")).Json!.AsArray().Count;

    [Fact]
    public async Task Create_with_defaults_then_info_list_node_renew_and_destroy()
    {
        var id = await CreateAsync("");
        var info = await agent.GetAsync($"/v1/session/info/{id}");
        Assert.Equal(HttpStatusCode.OK, info.Status);
        Assert.True(info.Index > 0);
        var session = Assert.Single(info.Json!.AsArray())!.AsObject();
        Assert.Equal(SessionFields, session.Select(p => p.Key));
        Assert.Equal(id, (string?)session["ID"]);
        Assert.Equal(HttpAgentFixture.NodeName, (string?)session["Node"]);
        Assert.Equal(15_000_000_000, (long)session["LockDelay"]!);
        Assert.Equal("release", (string?)session["Behavior"]);
        Assert.Equal("", (string?)session["TTL"]);
        Assert.Equal(["serfHealth"], session["NodeChecks"]!.AsArray().Select(c => (string?)c));

        Assert.Contains((await agent.GetAsync("/v1/session/list")).Json!.AsArray(), s => (string?)s!["ID"] == id);
        Assert.Contains((await agent.GetAsync($"/v1/session/node/{HttpAgentFixture.NodeName}")).Json!.AsArray(), s => (string?)s!["ID"] == id);
        Assert.Empty((await agent.GetAsync("/v1/session/node/nobody")).Json!.AsArray());

        var renew = await agent.PutAsync($"/v1/session/renew/{id}");
        Assert.Equal(HttpStatusCode.OK, renew.Status);
        Assert.Equal(id, (string?)Assert.Single(renew.Json!.AsArray())!["ID"]);

        Assert.Equal("true", (await agent.PutAsync($"/v1/session/destroy/{id}")).Text);
        var gone = await agent.GetAsync($"/v1/session/info/{id}");
        Assert.Equal(HttpStatusCode.OK, gone.Status);
        Assert.Empty(gone.Json!.AsArray());
        Assert.Equal(HttpStatusCode.NotFound, (await agent.PutAsync($"/v1/session/renew/{id}")).Status);
        Assert.DoesNotContain((await agent.GetAsync("/v1/session/list")).Json!.AsArray(), s => (string?)s!["ID"] == id);
    }

    [Fact]
    public async Task Create_takes_name_behavior_ttl_and_lock_delay()
    {
        var id = await CreateAsync("""{"Name": "worker", "Behavior": "delete", "TTL": "30s", "LockDelay": "5s"}""");
        var session = (await agent.GetAsync($"/v1/session/info/{id}")).Json![0]!;
        Assert.Equal("worker", (string?)session["Name"]);
        Assert.Equal("delete", (string?)session["Behavior"]);
        Assert.Equal("30s", (string?)session["TTL"]);
        Assert.Equal(5_000_000_000, (long)session["LockDelay"]!);

        // A number below 1000 is seconds, as in Consul.
        var seconds = await CreateAsync("""{"LockDelay": 7, "TTL": "24h"}""");
        Assert.Equal(7_000_000_000, (long)(await agent.GetAsync($"/v1/session/info/{seconds}")).Json![0]!["LockDelay"]!);
    }

    [Theory]
    [InlineData("""{"TTL": "5s"}""", "Invalid Session TTL")]
    [InlineData("""{"TTL": "9.999s"}""", "Invalid Session TTL")]
    [InlineData("""{"TTL": "86401s"}""", "Invalid Session TTL")]
    [InlineData("""{"TTL": "forever"}""", "TTL")]
    [InlineData("""{"TTL": "-10s"}""", "TTL")]
    [InlineData("""{"TTL": 30}""", "TTL")]
    [InlineData("""{"Behavior": "explode"}""", "Behavior")]
    [InlineData("""{"LockDelay": "61s"}""", "LockDelay")]
    [InlineData("""{"LockDelay": -1}""", "LockDelay")]
    [InlineData("""{"LockDelay": "soon"}""", "LockDelay")]
    [InlineData("""{"Node": "no-such-node"}""", "no-such-node")]
    [InlineData("""{"Checks": ["no-such-check"]}""", "no-such-check")]
    [InlineData("""{"Checks": "serfHealth"}""", "Checks")]
    public async Task An_invalid_session_is_400_naming_the_problem_and_creates_nothing(string body, string expected)
    {
        var before = await SessionCountAsync();
        var reply = await agent.PutAsync("/v1/session/create", body);
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Contains(expected, reply.Text, StringComparison.Ordinal);
        Assert.Equal(before, await SessionCountAsync());
    }

    [Fact]
    public async Task A_lock_is_held_by_one_session_and_released_when_it_is_destroyed()
    {
        var holder = await CreateAsync("""{"LockDelay": "0s"}""");
        var other = await CreateAsync("""{"LockDelay": "0s"}""");

        Assert.Equal("true", (await agent.PutAsync($"/v1/kv/locks/a?acquire={holder}", "mine")).Text);
        var held = (await agent.GetAsync("/v1/kv/locks/a")).Json![0]!.AsObject();
        Assert.Equal(holder, (string?)held["Session"]);
        Assert.Equal(1, (long)held["LockIndex"]!);
        Assert.Equal(["LockIndex", "Key", "Flags", "Value", "Session", "CreateIndex", "ModifyIndex"], held.Select(p => p.Key));

        // Re-acquiring by the holder updates the value without a new LockIndex; another session is refused.
        Assert.Equal("true", (await agent.PutAsync($"/v1/kv/locks/a?acquire={holder}", "mine2")).Text);
        Assert.Equal(1, (long)(await agent.GetAsync("/v1/kv/locks/a")).Json![0]!["LockIndex"]!);
        Assert.Equal("false", (await agent.PutAsync($"/v1/kv/locks/a?acquire={other}", "theirs")).Text);
        Assert.Equal("false", (await agent.PutAsync($"/v1/kv/locks/a?release={other}", "theirs")).Text);
        Assert.Equal("mine2", await agent.KvValueAsync("locks/a"));

        Assert.Equal("true", (await agent.PutAsync($"/v1/session/destroy/{holder}")).Text);
        var released = (await agent.GetAsync("/v1/kv/locks/a")).Json![0]!.AsObject();
        Assert.False(released.ContainsKey("Session"));
        Assert.Equal(1, (long)released["LockIndex"]!);
        Assert.Equal("mine2", await agent.KvValueAsync("locks/a"));

        Assert.Equal("true", (await agent.PutAsync($"/v1/kv/locks/a?acquire={other}", "theirs")).Text);
        Assert.Equal(2, (long)(await agent.GetAsync("/v1/kv/locks/a")).Json![0]!["LockIndex"]!);
        Assert.Equal("true", (await agent.PutAsync($"/v1/kv/locks/a?release={other}", "done")).Text);
        var free = (await agent.GetAsync("/v1/kv/locks/a")).Json![0]!.AsObject();
        Assert.False(free.ContainsKey("Session"));
        Assert.Equal("done", await agent.KvValueAsync("locks/a"));
    }

    [Fact]
    public async Task A_delete_session_takes_its_keys_with_it_and_lock_delay_holds_a_released_key()
    {
        var deleting = await CreateAsync("""{"Behavior": "delete", "LockDelay": "0s"}""");
        Assert.Equal("true", (await agent.PutAsync($"/v1/kv/locks/del?acquire={deleting}", "x")).Text);
        Assert.Equal("true", (await agent.PutAsync($"/v1/session/destroy/{deleting}")).Text);
        Assert.Null(await agent.KvValueAsync("locks/del"));

        var delayed = await CreateAsync("""{"LockDelay": "60s"}""");
        var next = await CreateAsync("");
        Assert.Equal("true", (await agent.PutAsync($"/v1/kv/locks/delayed?acquire={delayed}", "x")).Text);
        Assert.Equal("true", (await agent.PutAsync($"/v1/session/destroy/{delayed}")).Text);
        Assert.Equal("false", (await agent.PutAsync($"/v1/kv/locks/delayed?acquire={next}", "y")).Text);
        Assert.Equal("x", await agent.KvValueAsync("locks/delayed"));
    }

    [Fact]
    public async Task Acquire_with_an_unknown_session_or_conflicting_flags_is_refused_and_writes_nothing()
    {
        var unknown = await agent.PutAsync($"/v1/kv/locks/bad?acquire={Guid.NewGuid()}", "x");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.Status);
        Assert.Contains("session", unknown.Text, StringComparison.OrdinalIgnoreCase);
        var id = await CreateAsync("");
        Assert.Equal(HttpStatusCode.BadRequest, (await agent.PutAsync($"/v1/kv/locks/bad?acquire={id}&release={id}", "x")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await agent.PutAsync($"/v1/kv/locks/bad?acquire={id}&cas=0", "x")).Status);
        Assert.Null(await agent.KvValueAsync("locks/bad"));

        var txn = new JsonArray(new JsonObject { ["KV"] = new JsonObject { ["Verb"] = "lock", ["Key"] = "locks/bad", ["Session"] = "nope" } });
        var reply = await agent.PutAsync("/v1/txn", txn.ToJsonString());
        Assert.Equal(HttpStatusCode.Conflict, reply.Status);
        Assert.Null(await agent.KvValueAsync("locks/bad"));
    }
}
