using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Cluster.Tests.Server;

/// <summary>
/// Every parser that reads from the network, fed malformed input: each request is refused with a
/// 4xx and a message, never a 500, and nothing is half-applied (the state read back is unchanged).
/// </summary>
[Trait("Category", "Integration")]
public sealed class HttpMalformedInputTests(HttpAgentFixture agent) : IClassFixture<HttpAgentFixture>
{
    /// <summary>The endpoints that decode a JSON body (the ids in their paths do not exist).</summary>
    private static readonly string[] JsonEndpoints =
    [
        "/v1/catalog/register", "/v1/catalog/deregister", "/v1/agent/service/register", "/v1/agent/check/register",
        "/v1/agent/check/update/mal-none", "/v1/session/create", "/v1/config", "/v1/txn",
    ];

    private static readonly string[] StatePaths =
    [
        "/v1/kv/?recurse", "/v1/catalog/nodes", "/v1/catalog/services", "/v1/health/state/any", "/v1/session/list",
        "/v1/config/proxy-defaults", "/v1/config/service-defaults", "/v1/agent/services", "/v1/agent/checks",
    ];

    /// <summary>Everything the API can show, read back in full (entries carry their indexes, so any write shows).</summary>
    private async Task<string> StateAsync()
    {
        var parts = new List<string>();
        foreach (var path in StatePaths)
        {
            var reply = await agent.GetAsync(path);
            parts.Add($"{path} {(int)reply.Status} {reply.Text}");
        }

        return string.Join('\n', parts);
    }

    private async Task AssertRefusedAsync(Func<Task<Reply>> send, HttpStatusCode expected, string message)
    {
        var before = await StateAsync();
        var reply = await send();
        Assert.True(reply.Status == expected, $"expected {(int)expected}, got {reply}");
        Assert.False(string.IsNullOrWhiteSpace(reply.Text), "an error answers with a message");
        Assert.Contains(message, reply.Text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, await StateAsync());
    }

    public static TheoryData<string, string> InvalidJson()
    {
        string[] bodies =
        [
            "{", "{\"Name\": ", "not json", "[1, 2", "{\"a\" 1}", "{'Name': 'x'}", "{\"Name\": \"x\",}", "{} {}",
            "{\"Name\": NaN}", "{\"Name\": \"unterminated}", "\u0000", new string('[', 200) + new string(']', 200),
        ];
        var data = new TheoryData<string, string>();
        foreach (var endpoint in JsonEndpoints)
        {
            foreach (var body in bodies)
            {
                data.Add(endpoint, body);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(InvalidJson))]
    public Task Invalid_JSON_is_400(string endpoint, string body) =>
        AssertRefusedAsync(() => agent.PutAsync(endpoint, body), HttpStatusCode.BadRequest, "decode");

    [Theory]
    [MemberData(nameof(InvalidJsonEndpoints))]
    public Task Invalid_UTF8_is_400(string endpoint) =>
        AssertRefusedAsync(() => agent.PutAsync(endpoint, [(byte)'{', (byte)'"', 0xff, 0xfe, (byte)'"', (byte)':', (byte)'1', (byte)'}']), HttpStatusCode.BadRequest, "decode");

    public static TheoryData<string> InvalidJsonEndpoints()
    {
        var data = new TheoryData<string>();
        foreach (var endpoint in JsonEndpoints)
        {
            data.Add(endpoint);
        }

        return data;
    }

    public static TheoryData<string, string> NonObjects()
    {
        var data = new TheoryData<string, string>();
        foreach (var endpoint in JsonEndpoints)
        {
            foreach (var body in endpoint == "/v1/txn" ? new[] { "{}", "\"str\"", "123", "true", "null" } : ["[]", "[{}]", "\"str\"", "123", "true", "null"])
            {
                data.Add(endpoint, body);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(NonObjects))]
    public Task A_body_of_the_wrong_JSON_kind_is_400(string endpoint, string body) =>
        AssertRefusedAsync(() => agent.PutAsync(endpoint, body), HttpStatusCode.BadRequest, "expected");

    [Theory]
    [InlineData("/v1/catalog/register")]
    [InlineData("/v1/catalog/deregister")]
    [InlineData("/v1/agent/service/register")]
    [InlineData("/v1/agent/check/register")]
    [InlineData("/v1/config")]
    [InlineData("/v1/txn")]
    public Task A_missing_body_is_400(string endpoint) =>
        AssertRefusedAsync(() => agent.PutAsync(endpoint, " \n"), HttpStatusCode.BadRequest, "decode");

    public static TheoryData<string, string, string> WrongFields() => new()
    {
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Service": {"Service": "mal-s", "Port": "abc"}}""", "Port" },
        { "/v1/catalog/register", """{"Node": 5, "Address": "1.2.3.4"}""", "Node" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": ["1.2.3.4"]}""", "Address" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "NodeMeta": {"k": 1}}""", "NodeMeta" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "NodeMeta": "k"}""", "NodeMeta" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "TaggedAddresses": [1]}""", "TaggedAddresses" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "ID": "not-a-uuid"}""", "UUID" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "SkipNodeUpdate": "yes"}""", "SkipNodeUpdate" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Service": "mal-s"}""", "Service" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Service": {"Service": "mal-s", "Tags": "a"}}""", "Tags" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Service": {"Service": "mal-s", "Tags": [1]}}""", "Tags" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Service": {"Service": "mal-s", "Port": 70000}}""", "port" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Service": {"Service": "mal-s", "Port": 3000000000}}""", "Port" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Service": {"Service": "mal-s", "Port": -4294967296}}""", "Port" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Service": {"Service": "mal-s", "Port": 1.5}}""", "Port" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Service": {"Service": "mal-s", "Port": 1e400}}""", "Port" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Service": {"Service": "mal-s", "Weights": {"Passing": 9999999999}}}""", "Passing" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Service": {"Service": "mal-s", "Weights": 3}}""", "Weights" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Service": {"Service": "mal-s", "TaggedAddresses": {"lan": "x"}}}""", "TaggedAddresses" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Service": {"Service": "mal-s", "EnableTagOverride": "yes"}}""", "EnableTagOverride" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Service": {"Service": "mal-s", "Meta": {"k": {}}}}""", "Meta" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Service": {"Service": "mal-s", "Proxy": "p"}}""", "Proxy" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Service": {"Port": 80}}""", "service name" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Check": {"Name": "c", "Status": "bogus"}}""", "bogus" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Checks": [{"Name": "c", "Status": "passing"}, {"Name": "d", "Status": "Passing"}]}""", "Passing" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Checks": [{"Name": "c"}, 5]}""", "Checks" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Checks": {"Name": "c"}}""", "Checks" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Checks": [{"Status": "passing"}]}""", "CheckID" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Check": {"Name": "c", "ServiceID": "mal-none"}}""", "mal-none" },
        { "/v1/catalog/register", """{"Address": "1.2.3.4"}""", "node name" },
        { "/v1/catalog/register", """{"Node": "mal-n"}""", "address" },
        { "/v1/catalog/register", """{"Node": "mal-\ud800", "Address": "1.2.3.4"}""", "decode" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "NodeMeta": {"\udc00": "x"}}""", "decode" },
        { "/v1/catalog/register", """{"Node": "mal\u0000n", "Address": "1.2.3.4"}""", "NUL" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Service": {"Service": "web\u0000x"}}""", "NUL" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Service": {"Service": "web", "ID": "w\u0000"}}""", "NUL" },
        { "/v1/catalog/register", """{"Node": "mal-n", "Address": "1.2.3.4", "Check": {"CheckID": "c\u0000", "Name": "c"}}""", "NUL" },
        { "/v1/agent/service/register", """{"Name": "web\u0000x", "Port": 1}""", "NUL" },
        { "/v1/agent/check/register", """{"Name": "c\u0000", "TTL": "1m"}""", "NUL" },
        { "/v1/catalog/deregister", """{"Node": 5}""", "Node" },
        { "/v1/catalog/deregister", """{}""", "node name" },
        { "/v1/catalog/deregister", """{"Node": "t", "ServiceID": 1}""", "ServiceID" },
        { "/v1/catalog/deregister", """{"Node": "t", "CheckID": ["serfHealth"]}""", "CheckID" },
        { "/v1/agent/service/register", """{"Name": "mal-s", "Port": "abc"}""", "Port" },
        { "/v1/agent/service/register", """{"Name": 5}""", "Name" },
        { "/v1/agent/service/register", """{"Name": "mal-s", "Port": -1}""", "port" },
        { "/v1/agent/service/register", """{"Name": "mal-s", "Port": 3000000000}""", "Port" },
        { "/v1/agent/service/register", """{"Name": "mal-s", "Weights": {"Warning": 1.5}}""", "Warning" },
        { "/v1/agent/service/register", """{"Name": "mal-s", "Kind": 7}""", "Kind" },
        { "/v1/agent/service/register", """{"Port": 80}""", "service name" },
        { "/v1/agent/service/register", """{"Name": "mal-s", "Check": {"TTL": "abc"}}""", "TTL" },
        { "/v1/agent/service/register", """{"Name": "mal-s", "Check": {"TTL": "-1s"}}""", "TTL" },
        { "/v1/agent/service/register", """{"Name": "mal-s", "Check": {"TTL": true}}""", "TTL" },
        { "/v1/agent/service/register", """{"Name": "mal-s", "Check": {"TTL": "10s", "Status": "bogus"}}""", "bogus" },
        { "/v1/agent/service/register", """{"Name": "mal-s", "Check": {}}""", "TTL" },
        { "/v1/agent/service/register", """{"Name": "mal-s", "Check": "ttl"}""", "Check" },
        { "/v1/agent/service/register", """{"Name": "mal-s", "Checks": [{"TTL": "10s"}, "x"]}""", "Checks" },
        { "/v1/agent/service/register", """{"Name": "mal-s", "Checks": [{"TTL": "10s"}, {"TTL": "10s", "Status": "ok"}]}""", "ok" },
        { "/v1/agent/service/register", """{"Name": "mal-\ud800"}""", "decode" },
        { "/v1/agent/check/register", """{"Name": "mal-c"}""", "TTL" },
        { "/v1/agent/check/register", """{"Name": "mal-c", "TTL": "1m", "Status": "bogus"}""", "bogus" },
        { "/v1/agent/check/register", """{"TTL": "1m"}""", "check name" },
        { "/v1/agent/check/register", """{"Name": "mal-c", "TTL": "1m", "ServiceID": "mal-none"}""", "mal-none" },
        { "/v1/agent/check/register", """{"Name": ["mal-c"], "TTL": "1m"}""", "Name" },
        { "/v1/agent/check/register", """{"Name": "mal-c", "TTL": "0s"}""", "TTL" },
        { "/v1/agent/check/register", """{"Name": "mal-c", "TTL": 1e300}""", "TTL" },
        { "/v1/agent/check/update/mal-none", """{"Status": 5}""", "Status" },
        { "/v1/agent/check/update/mal-none", """{"Status": "maintenance"}""", "maintenance" },
        { "/v1/agent/check/update/mal-none", """{"Status": "passing", "Output": 5}""", "Output" },
        { "/v1/agent/check/update/mal-none", """{}""", "status" },
        { "/v1/session/create", """{"Name": 5}""", "Name" },
        { "/v1/session/create", """{"Behavior": 5}""", "Behavior" },
        { "/v1/session/create", """{"LockDelay": true}""", "LockDelay" },
        { "/v1/session/create", """{"LockDelay": -1e300}""", "LockDelay" },
        { "/v1/session/create", """{"LockDelay": 1e300}""", "LockDelay" },
        { "/v1/session/create", """{"LockDelay": "-1s"}""", "LockDelay" },
        { "/v1/session/create", """{"ServiceChecks": [1]}""", "ServiceChecks" },
        { "/v1/session/create", """{"ServiceChecks": {}}""", "ServiceChecks" },
        { "/v1/session/create", """{"NodeChecks": [5]}""", "NodeChecks" },
        { "/v1/session/create", """{"TTL": "1h", "Node": 5}""", "Node" },
        { "/v1/session/create", """{"TTL": "25h"}""", "TTL" },
        { "/v1/config", """{"Kind": 5, "Name": "mal-x"}""", "Kind" },
        { "/v1/config", """{"Kind": "service-defaults", "Name": 5}""", "Name" },
        { "/v1/config", """{"Kind": "service-defaults", "Name": "mal-x", "MaxInboundConnections": "5"}""", "MaxInboundConnections" },
        { "/v1/config", """{"Kind": "service-defaults", "Name": "mal-x", "MeshGateway": {"Mode": 5}}""", "Mode" },
        { "/v1/config", """{"Kind": "service-defaults", "Name": "mal-x", "Protocol": "HTTP"}""", "HTTP" },
        { "/v1/txn", """[{"KV": {"Verb": "set", "Key": "mal/k", "Value": 5}}]""", "Value" },
        { "/v1/txn", """[{"KV": {"Verb": "bogus", "Key": "mal/k"}}]""", "bogus" },
        { "/v1/txn", """[{"KV": {"Verb": 5, "Key": "mal/k"}}]""", "Verb" },
        { "/v1/txn", """[{"KV": {"Key": "mal/k"}}]""", "verb" },
        { "/v1/txn", """[{"KV": "x"}]""", "KV" },
        { "/v1/txn", """[1]""", "operation 0" },
        { "/v1/txn", """[null]""", "operation 0" },
        { "/v1/txn", """[{"Node": {"Verb": "get", "Node": {"Node": "t"}}}]""", "KV" },
        { "/v1/txn", """[{"KV": {"Verb": "set"}}]""", "key" },
        { "/v1/txn", """[{"KV": {"Verb": "set", "Key": 5}}]""", "Key" },
        { "/v1/txn", """[{"KV": {"Verb": "set", "Key": "mal/k", "Session": 5}}]""", "Session" },
        { "/v1/txn", """[{"KV": {"Verb": "set", "Key": "mal/k", "Value": "!!!"}}]""", "base64" },
        { "/v1/txn", """[{"KV": {"Verb": "set", "Key": "mal/k", "Value": "eA=="}}, {"KV": {"Verb": "set", "Key": "mal/k2", "Value": "%%%"}}]""", "operation 1" },
        { "/v1/txn", """[{"KV": {"Verb": "set", "Key": "mal/k", "Value": "eA=="}}, {"KV": {"Verb": "set", "Key": "mal/k2", "Flags": -1}}]""", "Flags" },
        { "/v1/txn", """[{"KV": {"Verb": "cas", "Key": "mal/k", "Index": "7"}}]""", "Index" },
        { "/v1/txn", """[{"KV": {"Verb": "set", "Key": "mal/\udfff", "Value": "eA=="}}]""", "decode" },
    };

    [Theory]
    [MemberData(nameof(WrongFields))]
    public Task A_field_of_the_wrong_type_or_value_is_400_naming_it(string endpoint, string body, string expected) =>
        AssertRefusedAsync(() => agent.PutAsync(endpoint, body), HttpStatusCode.BadRequest, expected);

    [Fact]
    public async Task A_name_repeated_in_any_case_keeps_the_last_value_as_Go_decodes_it()
    {
        var register = await agent.PutAsync("/v1/agent/service/register", """{"Name": "dup-first", "name": "dup-last", "Port": 1, "PORT": 2}""");
        Assert.True(register.Status == HttpStatusCode.OK, register.ToString());
        var service = (await agent.GetAsync("/v1/agent/service/dup-last")).Json!;
        Assert.Equal("dup-last", (string?)service["Service"]);
        Assert.Equal(2, (int)service["Port"]!);
        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync("/v1/agent/service/deregister/dup-last")).Status);

        var txn = await agent.PutAsync("/v1/txn", """[{"KV": {"Verb": "set", "Key": "dup/first", "key": "dup/last", "Value": "eA=="}}]""");
        Assert.True(txn.Status == HttpStatusCode.OK, txn.ToString());
        Assert.Equal("x", await agent.KvValueAsync("dup/last"));
        Assert.Null(await agent.KvValueAsync("dup/first"));
        Assert.Equal("true", (await agent.DeleteAsync("/v1/kv/dup/last")).Text);
    }

    [Fact]
    public async Task A_KV_value_over_512_KiB_is_413_and_nothing_is_written()
    {
        Assert.Equal("true", (await agent.PutAsync("/v1/kv/mal/big", "before")).Text);
        var limit = 512 * 1024;
        await AssertRefusedAsync(() => SendLargeAsync("/v1/kv/mal/big", new byte[limit + 1], chunked: false), HttpStatusCode.RequestEntityTooLarge, "too large");
        await AssertRefusedAsync(() => SendLargeAsync("/v1/kv/mal/big", new byte[limit + 100_000], chunked: true), HttpStatusCode.RequestEntityTooLarge, "too large");
        await AssertRefusedAsync(() => SendLargeAsync("/v1/kv/mal/big-new", new byte[limit + 1], chunked: true), HttpStatusCode.RequestEntityTooLarge, "too large");
        Assert.Equal("before", await agent.KvValueAsync("mal/big"));
        Assert.Null(await agent.KvValueAsync("mal/big-new"));

        var exact = new byte[limit];
        new Random(7).NextBytes(exact);
        Assert.Equal("true", (await SendLargeAsync("/v1/kv/mal/big", exact, chunked: false)).Text);
        Assert.Equal(exact, (await agent.GetAsync("/v1/kv/mal/big?raw")).Body);
        Assert.Equal("true", (await agent.DeleteAsync("/v1/kv/mal/big")).Text);
    }

    [Fact]
    public async Task A_txn_with_too_many_operations_or_a_value_too_large_is_413_and_nothing_is_written()
    {
        static JsonArray Sets(int count, string value) =>
            [.. Enumerable.Range(0, count).Select(i => (JsonNode)new JsonObject { ["KV"] = new JsonObject { ["Verb"] = "set", ["Key"] = $"mal/txn/{i}", ["Value"] = value } })];

        await AssertRefusedAsync(() => agent.PutAsync("/v1/txn", Sets(129, "eA==").ToJsonString()), HttpStatusCode.RequestEntityTooLarge, "too many operations");
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync("/v1/kv/mal/txn/?keys")).Status);

        var big = Convert.ToBase64String(new byte[(512 * 1024) + 1]);
        await AssertRefusedAsync(
            () => SendLargeAsync("/v1/txn", Encoding.UTF8.GetBytes(new JsonArray(Sets(1, "eA==")[0]!.DeepClone(), new JsonObject { ["KV"] = new JsonObject { ["Verb"] = "set", ["Key"] = "mal/txn/big", ["Value"] = big } }).ToJsonString()), chunked: false),
            HttpStatusCode.RequestEntityTooLarge,
            "too large");
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync("/v1/kv/mal/txn/?keys")).Status);

        // The limit itself is allowed.
        var most = await agent.PutAsync("/v1/txn", Sets(128, "eA==").ToJsonString());
        Assert.Equal(HttpStatusCode.OK, most.Status);
        Assert.Equal(128, (await agent.GetAsync("/v1/kv/mal/txn/?keys")).Json!.AsArray().Count);
        Assert.Equal("true", (await agent.DeleteAsync("/v1/kv/mal/txn/?recurse")).Text);
    }

    [Fact]
    public async Task A_body_over_the_server_limits_is_413_with_a_message()
    {
        var meta = new JsonObject { ["Node"] = "mal-huge", ["Address"] = "1.2.3.4", ["NodeMeta"] = new JsonObject { ["k"] = new string('x', 1_100_000) } };
        await AssertRefusedAsync(() => SendLargeAsync("/v1/catalog/register", Encoding.UTF8.GetBytes(meta.ToJsonString()), chunked: false), HttpStatusCode.RequestEntityTooLarge, "too large");
        await AssertRefusedAsync(() => SendLargeAsync("/v1/catalog/register", Encoding.UTF8.GetBytes(meta.ToJsonString()), chunked: true), HttpStatusCode.RequestEntityTooLarge, "too large");
        // Past Kestrel's own 8 MiB cap, refused by Kestrel while the body is read; still a 413 that says why.
        await AssertRefusedAsync(() => SendLargeAsync("/v1/txn", new byte[9 << 20], chunked: false), HttpStatusCode.RequestEntityTooLarge, "too large");
        await AssertRefusedAsync(() => SendLargeAsync("/v1/txn", new byte[9 << 20], chunked: true), HttpStatusCode.RequestEntityTooLarge, "too large");
        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync("/v1/status/leader")).Status);
    }

    /// <summary>A large PUT that waits for the server's go-ahead (Expect: 100-continue), so a refusal before the body is read is seen, not a reset.</summary>
    private Task<Reply> SendLargeAsync(string path, byte[] body, bool chunked)
    {
        HttpContent content = chunked ? new StreamContent(new MemoryStream(body)) : new ByteArrayContent(body);
        if (chunked)
        {
            content.Headers.ContentLength = null;
        }

        return SendExpectingContinueAsync(path, content, chunked);
    }

    private async Task<Reply> SendExpectingContinueAsync(string path, HttpContent content, bool chunked)
    {
        using (content)
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(path, UriKind.Relative)) { Content = content };
            request.Headers.ExpectContinue = true;
            request.Headers.TransferEncodingChunked = chunked;
            using var response = await agent.Client.SendAsync(request);
            return new Reply(response.StatusCode, await response.Content.ReadAsByteArrayAsync(), response.Headers, response.Content.Headers);
        }
    }

    public static TheoryData<string, string, string> BadQueries() => new()
    {
        { "PUT", "/v1/kv/mal/q?cas=-1", "cas" },
        { "PUT", "/v1/kv/mal/q?cas=abc", "cas" },
        { "PUT", "/v1/kv/mal/q?flags=abc", "flags" },
        { "PUT", "/v1/kv/mal/q?flags=-1", "flags" },
        { "PUT", "/v1/kv/mal/q?flags=18446744073709551616", "flags" },
        { "PUT", "/v1/kv/mal/q?flags=1e3", "flags" },
        { "PUT", "/v1/kv/mal/q?acquire=x&release=x", "acquire" },
        { "PUT", "/v1/kv/mal/q?cas=0&release=x", "cas" },
        { "PUT", "/v1/kv/", "key" },
        { "GET", "/v1/kv/", "key" },
        { "DELETE", "/v1/kv/", "key" },
        { "DELETE", "/v1/kv/mal/exists?cas=abc", "cas" },
        { "DELETE", "/v1/kv/mal/exists?cas=1&recurse", "cas" },
        { "GET", "/v1/kv/mal/exists?index=abc", "index" },
        { "GET", "/v1/kv/mal/exists?index=1&wait=xyz", "wait" },
        { "GET", "/v1/kv/mal/exists?keys&index=-5", "index" },
        { "GET", "/v1/catalog/nodes?index=abc", "index" },
        { "GET", "/v1/catalog/services?index=1&wait=1fortnight", "wait" },
        { "GET", "/v1/health/service/x?index=0x10", "index" },
        { "GET", "/v1/health/state/bogus", "bogus" },
        { "GET", "/v1/health/state/", "state" },
        { "GET", "/v1/health/service/", "service name" },
        { "GET", "/v1/health/node/", "node name" },
        { "GET", "/v1/health/checks/", "service name" },
        { "GET", "/v1/catalog/service/", "service name" },
        { "GET", "/v1/catalog/node/", "node name" },
        { "GET", "/v1/session/info/", "session id" },
        { "GET", "/v1/session/list?stale&consistent", "stale" },
        { "PUT", "/v1/session/renew/", "session id" },
        { "DELETE", "/v1/config/service-defaults/x?cas=abc", "cas" },
        { "GET", "/v1/config/service-defaults?index=no", "index" },
        { "DELETE", "/v1/operator/raft/peer", "id" },
        { "DELETE", "/v1/operator/raft/peer?id=nope", "nope" },
        { "DELETE", "/v1/operator/raft/peer?address=1.2.3.4:5", "1.2.3.4:5" },
    };

    [Theory]
    [MemberData(nameof(BadQueries))]
    public async Task A_bad_query_parameter_is_400_with_a_message_and_changes_nothing(string method, string path, string expected)
    {
        await agent.PutAsync("/v1/kv/mal/exists", "kept");
        await AssertRefusedAsync(() => agent.SendAsync(new HttpMethod(method), path, method == "PUT" ? new StringContent("v") : null), HttpStatusCode.BadRequest, expected);
        Assert.Equal("kept", await agent.KvValueAsync("mal/exists"));
        Assert.Null(await agent.KvValueAsync("mal/q"));
    }

    [Fact]
    public async Task A_bad_cas_on_a_config_write_is_400_and_writes_nothing()
    {
        await AssertRefusedAsync(() => agent.PutAsync("/v1/config?cas=abc", """{"Kind": "service-defaults", "Name": "mal-cas"}"""), HttpStatusCode.BadRequest, "cas");
        await AssertRefusedAsync(() => agent.PutAsync("/v1/config?cas=-1", """{"Kind": "service-defaults", "Name": "mal-cas"}"""), HttpStatusCode.BadRequest, "cas");
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync("/v1/config/service-defaults/mal-cas")).Status);
    }

    /// <summary>Random bytes into every PUT endpoint: refused (or, where the body is not read, answered as without one), never a 500, and nothing written.</summary>
    [Fact]
    public async Task Random_bytes_into_every_PUT_endpoint_are_refused_and_the_server_keeps_answering()
    {
        var random = new Random(20260101);
        var bodyless = new (string Path, HttpStatusCode[] Allowed)[]
        {
            ($"/v1/session/renew/{Guid.NewGuid()}", [HttpStatusCode.NotFound]),
            ($"/v1/session/destroy/{Guid.NewGuid()}", [HttpStatusCode.OK]),
            ("/v1/agent/check/pass/mal-none", [HttpStatusCode.NotFound]),
            ("/v1/agent/check/warn/mal-none", [HttpStatusCode.NotFound]),
            ("/v1/agent/check/fail/mal-none", [HttpStatusCode.NotFound]),
            ("/v1/agent/service/deregister/mal-none", [HttpStatusCode.NotFound]),
            ("/v1/agent/check/deregister/mal-none", [HttpStatusCode.NotFound]),
        };
        var targets = JsonEndpoints.Select(e => (Path: e, Allowed: new[] { HttpStatusCode.BadRequest, HttpStatusCode.RequestEntityTooLarge })).Concat(bodyless).ToList();
        var before = await StateAsync();
        foreach (var (path, allowed) in targets)
        {
            for (var round = 0; round < 25; round++)
            {
                var body = RandomBody(random, round < 20 ? 64 : 4096);
                var reply = await agent.PutAsync(path, body);
                Assert.True(allowed.Contains(reply.Status), $"PUT {path} with {Convert.ToHexString(body.AsSpan(0, Math.Min(body.Length, 32)))}...: {reply}");
            }

            Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync("/v1/status/leader")).Status);
        }

        Assert.Equal(before, await StateAsync());
    }

    [Fact]
    public async Task Random_bytes_are_a_valid_KV_value_and_read_back_exactly()
    {
        var random = new Random(424242);
        for (var i = 0; i < 30; i++)
        {
            var body = new byte[random.Next(1, 8192)];
            random.NextBytes(body);
            Assert.Equal("true", (await agent.PutAsync($"/v1/kv/mal/random/{i}", body)).Text);
            Assert.Equal(body, (await agent.GetAsync($"/v1/kv/mal/random/{i}?raw")).Body);
        }

        Assert.Equal("true", (await agent.DeleteAsync("/v1/kv/mal/random?recurse")).Text);
    }

    [Fact]
    public async Task Random_keys_and_query_values_never_cause_a_500()
    {
        var random = new Random(99);
        const string printable = "abcXYZ019-_.~!$&'()*+,;=:@%/?#[] \"<>\\^`{|}";
        for (var i = 0; i < 60; i++)
        {
            var raw = new byte[random.Next(1, 24)];
            random.NextBytes(raw);
            var encoded = string.Concat(raw.Select(b => $"%{b:X2}"));
            var put = await agent.PutAsync($"/v1/kv/mal/keys/{encoded}", "v");
            Assert.True(put.Status is HttpStatusCode.OK or HttpStatusCode.BadRequest, $"key {encoded}: {put}");
            if (put.Status == HttpStatusCode.OK)
            {
                Assert.Equal("v", (await agent.GetAsync($"/v1/kv/mal/keys/{encoded}?raw")).Text);
            }

            var junk = Uri.EscapeDataString(new string([.. Enumerable.Range(0, random.Next(1, 12)).Select(_ => printable[random.Next(printable.Length)])]));
            foreach (var query in new[] { $"index={junk}&wait=1s", $"index=1&wait={junk}", $"cas={junk}", $"flags={junk}", $"separator={junk}&keys", $"dc={junk}&stale" })
            {
                var get = await agent.GetAsync($"/v1/kv/mal/keys?{query}");
                Assert.True(get.Status is HttpStatusCode.OK or HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"GET ?{query}: {get}");
            }

            var cas = await agent.PutAsync($"/v1/kv/mal/qkeys/x?cas={junk}", "v");
            Assert.True(cas.Status is HttpStatusCode.OK or HttpStatusCode.BadRequest, $"PUT ?cas={junk}: {cas}");
            var flags = await agent.PutAsync($"/v1/kv/mal/qkeys/x?flags={junk}", "v");
            Assert.True(flags.Status is HttpStatusCode.OK or HttpStatusCode.BadRequest, $"PUT ?flags={junk}: {flags}");
        }

        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync("/v1/status/leader")).Status);
        await agent.DeleteAsync("/v1/kv/mal/keys?recurse");
        await agent.DeleteAsync("/v1/kv/mal/qkeys?recurse");
    }

    /// <summary>Raw HTTP/1.1 over a socket: what a client sends before it goes away, or what no client library would send.</summary>
    private async Task<string> RawAsync(byte[] request, bool halfClose)
    {
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(agent.Address.Host, agent.Address.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(request);
        if (halfClose)
        {
            client.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        }

        using var reader = new StreamReader(stream, Encoding.ASCII);
        try
        {
            return await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (IOException) when (halfClose)
        {
            return "(reset: the server dropped a request whose client had gone)";
        }
    }

    [Fact]
    public async Task A_body_cut_short_writes_nothing_and_the_server_keeps_answering()
    {
        Assert.Equal("true", (await agent.PutAsync("/v1/kv/mal/cut", "whole")).Text);
        var before = await StateAsync();
        var kv = Encoding.ASCII.GetBytes("PUT /v1/kv/mal/cut HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nConnection: close\r\n\r\npartial");
        var response = await RawAsync(kv, halfClose: true);
        Assert.DoesNotContain("200 OK", response, StringComparison.Ordinal);
        Assert.Equal("whole", await agent.KvValueAsync("mal/cut"));

        var chunked = Encoding.ASCII.GetBytes("PUT /v1/catalog/register HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n10\r\n{\"Node\": \"mal-cu");
        Assert.DoesNotContain("200 OK", await RawAsync(chunked, halfClose: true), StringComparison.Ordinal);
        Assert.Equal(before, await StateAsync());
    }

    [Theory]
    [InlineData("PUT /v1/kv/mal/raw HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\nConnection: close\r\n\r\nv")]
    [InlineData("PUT /v1/kv/mal/raw HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nvv")]
    [InlineData("PUT /v1/kv/mal/raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nv\r\n0\r\n\r\n")]
    [InlineData("PUT /v1/kv/mal/raw HTTP/1.1\r\nHost: x\r\nBad Header\r\nConnection: close\r\n\r\n")]
    [InlineData("GARBAGE\r\n\r\n")]
    [InlineData("PUT /v1/kv/mal/raw HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\nConnection: close\r\n\r\n")]
    public async Task A_malformed_HTTP_request_is_400_and_writes_nothing(string request)
    {
        var before = await StateAsync();
        var response = await RawAsync(Encoding.Latin1.GetBytes(request), halfClose: false);
        Assert.StartsWith("HTTP/1.1 400", response, StringComparison.Ordinal);
        Assert.Equal(before, await StateAsync());
        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync("/v1/status/leader")).Status);
    }

    /// <summary>Random bytes, never empty or all whitespace (an empty body is valid for some endpoints).</summary>
    private static byte[] RandomBody(Random random, int maxLength)
    {
        while (true)
        {
            var body = new byte[random.Next(1, maxLength)];
            random.NextBytes(body);
            if (body.Any(b => b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')))
            {
                return body;
            }
        }
    }
}
