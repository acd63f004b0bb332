using System.Diagnostics;
using System.Net;

namespace Cluster.Tests.Server;

/// <summary>
/// Blocking queries (?index, ?wait) and consistency modes. A blocking request is started and left
/// in flight while the test writes; every assertion holds whichever of the two reaches the server
/// first, so nothing here depends on timing except the ?wait bound itself.
/// </summary>
[Trait("Category", "Integration")]
public sealed class HttpBlockingQueryTests(HttpAgentFixture agent) : IClassFixture<HttpAgentFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private async Task<ulong> WriteAsync(string key, string value)
    {
        Assert.Equal("true", (await agent.PutAsync($"/v1/kv/{key}", value)).Text);
        return (await agent.GetAsync($"/v1/kv/{key}")).Index;
    }

    /// <summary>A few full round trips through the server (a quorum read each), so a request that should not be pending would have been answered.</summary>
    private async Task RoundTripsAsync(string key)
    {
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync($"/v1/kv/{key}?consistent")).Status);
        }
    }

    [Fact]
    public async Task A_query_at_the_current_index_blocks_until_the_key_is_written()
    {
        var index = await WriteAsync("block/a", "v1");
        var blocked = agent.GetAsync($"/v1/kv/block/a?index={index}&wait=30s");
        await RoundTripsAsync("block/a");
        Assert.False(blocked.IsCompleted, "nothing was written, yet the query answered");

        var written = await WriteAsync("block/a", "v2");
        var reply = await blocked.WaitAsync(Bound);
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.True(reply.Index > index);
        Assert.Equal(written, reply.Index);
        Assert.Equal("v2", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String((string)reply.Json![0]!["Value"]!)));
    }

    [Fact]
    public async Task Wait_bounds_a_query_that_sees_no_change_and_it_answers_the_same_index()
    {
        var index = await WriteAsync("block/wait", "v");
        var clock = Stopwatch.StartNew();
        // Nothing writes the key, so only the 1 s wait can end the query; were ?wait ignored, it would
        // hold for the 5-minute default and the safety net (Bound) fails the test.
        var reply = await agent.GetAsync($"/v1/kv/block/wait?index={index}&wait=1s").WaitAsync(Bound);
        clock.Stop();
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal(index, reply.Index);
        // It held at least the wait (a slow machine only makes this longer); how much longer is not bounded here.
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(950), $"answered after {clock.Elapsed}");
        Assert.Equal("true", reply.Header("X-Consul-KnownLeader"));
    }

    [Theory]
    [InlineData("0s")]
    [InlineData("0")]
    [InlineData("-5s")]
    public async Task A_wait_of_zero_or_less_blocks_for_the_default_as_in_Consul(string wait)
    {
        var index = await WriteAsync("block/zero", "v1");
        var blocked = agent.GetAsync($"/v1/kv/block/zero?index={index}&wait={wait}");
        await RoundTripsAsync("block/zero");
        Assert.False(blocked.IsCompleted, $"?wait={wait} answered at once");
        var written = await WriteAsync("block/zero", "v2");
        Assert.Equal(written, (await blocked.WaitAsync(Bound)).Index);
    }

    [Fact]
    public async Task A_write_to_another_key_does_not_wake_a_single_key_query()
    {
        var index = await WriteAsync("block/mine", "v1");
        await WriteAsync("block/other", "o1");
        var blocked = agent.GetAsync($"/v1/kv/block/mine?index={index}&wait=30s");
        await WriteAsync("block/other", "o2");
        await WriteAsync("block/minex", "sibling");
        await agent.DeleteAsync("/v1/kv/block/other");
        await RoundTripsAsync("block/mine");
        Assert.False(blocked.IsCompleted, "a write to another key answered a query on block/mine");

        var written = await WriteAsync("block/mine", "v2");
        var reply = await blocked.WaitAsync(Bound);
        Assert.Equal(written, reply.Index);
        Assert.True(reply.Index > index);
    }

    [Fact]
    public async Task A_recurse_query_wakes_on_a_new_key_under_its_prefix_but_not_outside_it()
    {
        await WriteAsync("prefix/one", "1");
        var index = (await agent.GetAsync("/v1/kv/prefix/?recurse")).Index;
        var blocked = agent.GetAsync($"/v1/kv/prefix/?recurse&index={index}&wait=30s");
        await WriteAsync("prefiy", "outside");
        await RoundTripsAsync("prefix/one");
        Assert.False(blocked.IsCompleted, "a write outside the prefix answered the query");

        var written = await WriteAsync("prefix/two", "2");
        var reply = await blocked.WaitAsync(Bound);
        Assert.Equal(written, reply.Index);
        Assert.Equal(["prefix/one", "prefix/two"], reply.Json!.AsArray().Select(e => (string?)e!["Key"]));
    }

    [Fact]
    public async Task A_query_on_a_missing_key_wakes_when_it_is_created()
    {
        var missing = await agent.GetAsync("/v1/kv/block/later");
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        var blocked = agent.GetAsync($"/v1/kv/block/later?index={missing.Index}&wait=30s");
        var written = await WriteAsync("block/later", "now");
        var reply = await blocked.WaitAsync(Bound);
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal(written, reply.Index);
    }

    [Fact]
    public async Task Deleting_the_key_wakes_its_query_with_a_404_at_a_higher_index()
    {
        var index = await WriteAsync("block/doomed", "v");
        var blocked = agent.GetAsync($"/v1/kv/block/doomed?index={index}&wait=30s");
        var keys = await agent.GetAsync("/v1/kv/block/?keys");
        var blockedKeys = agent.GetAsync($"/v1/kv/block/?keys&index={keys.Index}&wait=30s");
        Assert.Equal("true", (await agent.DeleteAsync("/v1/kv/block/doomed")).Text);
        var reply = await blocked.WaitAsync(Bound);
        Assert.Equal(HttpStatusCode.NotFound, reply.Status);
        Assert.True(reply.Index > index);
        var keysReply = await blockedKeys.WaitAsync(Bound);
        Assert.True(keysReply.Index > keys.Index);
        Assert.DoesNotContain("block/doomed", keysReply.Json!.AsArray().Select(k => (string?)k));
    }

    [Fact]
    public async Task Session_info_blocks_until_the_session_is_destroyed()
    {
        var created = await agent.PutAsync("/v1/session/create", """{"LockDelay": "0s"}""");
        var id = (string)created.Json!["ID"]!;
        var info = await agent.GetAsync($"/v1/session/info/{id}");
        var blocked = agent.GetAsync($"/v1/session/info/{id}?index={info.Index}&wait=30s");
        await WriteAsync("block/unrelated", "v");
        await RoundTripsAsync("block/unrelated");
        Assert.False(blocked.IsCompleted, "nothing changed, yet the query answered");
        Assert.Equal("true", (await agent.PutAsync($"/v1/session/destroy/{id}")).Text);
        var reply = await blocked.WaitAsync(Bound);
        Assert.True(reply.Index > info.Index);
        Assert.Empty(reply.Json!.AsArray());
    }

    [Fact]
    public async Task Catalog_and_health_queries_block_until_what_they_read_changes()
    {
        var services = await agent.GetAsync("/v1/catalog/services");
        var blockedServices = agent.GetAsync($"/v1/catalog/services?index={services.Index}&wait=30s");
        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync("/v1/catalog/register", """
            {"Node": "blk-n", "Address": "10.0.0.5", "Service": {"Service": "blk-svc"}, "Check": {"CheckID": "blk-c", "Name": "c", "ServiceID": "blk-svc", "Status": "critical"}}
            """)).Status);
        var servicesReply = await blockedServices.WaitAsync(Bound);
        Assert.True(servicesReply.Index > services.Index);
        Assert.True(servicesReply.Json!.AsObject().ContainsKey("blk-svc"));

        var health = await agent.GetAsync("/v1/health/service/blk-svc?passing");
        Assert.Empty(health.Json!.AsArray());
        var blockedHealth = agent.GetAsync($"/v1/health/service/blk-svc?passing&index={health.Index}&wait=30s");
        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync("/v1/catalog/register", """
            {"Node": "blk-n", "Address": "10.0.0.5", "SkipNodeUpdate": true, "Check": {"CheckID": "blk-c", "Name": "c", "ServiceID": "blk-svc", "Status": "passing"}}
            """)).Status);
        var healthReply = await blockedHealth.WaitAsync(Bound);
        Assert.True(healthReply.Index > health.Index);
        Assert.Single(healthReply.Json!.AsArray());
    }

    [Fact]
    public async Task Stale_and_consistent_each_work_including_while_blocking_and_together_are_400()
    {
        var index = await WriteAsync("mode/a", "v");
        foreach (var mode in new[] { "stale", "consistent" })
        {
            var reply = await agent.GetAsync($"/v1/kv/mode/a?{mode}");
            Assert.Equal(HttpStatusCode.OK, reply.Status);
            Assert.Equal(index, reply.Index);
            Assert.Equal("true", reply.Header("X-Consul-KnownLeader"));
            Assert.NotNull(reply.Header("X-Consul-LastContact"));
        }

        var blockedConsistent = agent.GetAsync($"/v1/kv/mode/a?consistent&index={index}&wait=30s");
        var blockedStale = agent.GetAsync($"/v1/kv/mode/a?stale&index={index}&wait=30s");
        var written = await WriteAsync("mode/a", "w");
        Assert.Equal(written, (await blockedConsistent.WaitAsync(Bound)).Index);
        Assert.Equal(written, (await blockedStale.WaitAsync(Bound)).Index);

        var both = await agent.GetAsync("/v1/kv/mode/a?stale&consistent");
        Assert.Equal(HttpStatusCode.BadRequest, both.Status);
        Assert.Contains("stale", both.Text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await agent.GetAsync("/v1/catalog/nodes?stale&consistent")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await agent.GetAsync($"/v1/kv/mode/a?stale&consistent&index={written}&wait=5s")).Status);
    }

    [Theory]
    [InlineData("index=abc", "index")]
    [InlineData("index=-1", "index")]
    [InlineData("index=1.5", "index")]
    [InlineData("index=99999999999999999999999", "index")]
    [InlineData("index=1&wait=xyz", "wait")]
    [InlineData("index=1&wait=10x", "wait")]
    [InlineData("index=1&wait=5s5", "wait")]
    public async Task Bad_blocking_parameters_are_400_with_a_message(string query, string expected)
    {
        await WriteAsync("params/a", "v");
        var reply = await agent.GetAsync($"/v1/kv/params/a?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Contains(expected, reply.Text, StringComparison.OrdinalIgnoreCase);
    }
}
