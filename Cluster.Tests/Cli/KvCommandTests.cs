using System.Text;

namespace Cluster.Tests.Cli;

/// <summary>`cluster kv put|get|delete` against a fake agent: the requests they send and what they print.</summary>
public sealed class KvCommandTests : IAsyncLifetime
{
    private const string Pair = """[{"LockIndex":1,"Key":"app/config","Flags":42,"Value":"aGVsbG8gd29ybGQ=","CreateIndex":5,"ModifyIndex":9,"Session":"adf4238a"}]""";
    private FakeAgent _agent = null!;

    public async Task InitializeAsync() => _agent = await FakeAgent.StartAsync();

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    [Fact]
    public async Task Put_sends_the_value_as_the_body_with_flags_datacenter_and_token()
    {
        _agent.Answer("PUT", "/v1/kv/app/config", "true");
        var run = await CliRun.RunAsync(
            ["kv", "put", "-flags=42", "--datacenter", "dc2", "-stale", "app/config", "hello world"],
            new Dictionary<string, string> { ["CONSUL_HTTP_ADDR"] = _agent.Address, ["CONSUL_HTTP_TOKEN"] = "s3cret" });

        Assert.Equal(new CliRun(0, "Success! Data written to: app/config\n", ""), run);
        Assert.Equal("PUT /v1/kv/app/config?flags=42&dc=dc2", _agent.Request.ToString()); // -stale changes reads only
        Assert.Equal("hello world", _agent.Request.Body);
        Assert.Equal("s3cret", _agent.Request.Token);
    }

    [Fact]
    public async Task Put_reads_the_value_from_stdin_a_file_or_base64_and_stores_no_value_without_one()
    {
        _agent.Answer("PUT", "/v1/kv/k", "true");
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, "from a file\n");
        try
        {
            Assert.Equal(0, (await _agent.RunAsync(Encoding.UTF8.GetBytes("from stdin"), "kv", "put", "k", "-")).Exit);
            Assert.Equal(0, (await _agent.RunAsync("kv", "put", "k", "@" + file)).Exit);
            Assert.Equal(0, (await _agent.RunAsync("kv", "put", "-base64", "k", "aGk=")).Exit);
            Assert.Equal(0, (await _agent.RunAsync("kv", "put", "k")).Exit);
            Assert.Equal(0, (await _agent.RunAsync("kv", "put", "k", "-not-a-flag")).Exit); // flags end at KEY
        }
        finally
        {
            File.Delete(file);
        }

        Assert.Equal(["from stdin", "from a file\n", "hi", "", "-not-a-flag"], _agent.Requests.Select(r => r.Body));
        Assert.All(_agent.Requests, r => Assert.Equal("PUT /v1/kv/k", r.ToString()));

        var missing = await _agent.RunAsync("kv", "put", "k", "@/no/such/file");
        Assert.Equal(new CliRun(1, "", "Error! Failed to read file: open /no/such/file: no such file or directory\n"), missing);
    }

    [Fact]
    public async Task Put_with_cas_reports_whether_the_write_happened()
    {
        _agent.Answer("PUT", "/v1/kv/k", "false");
        var refused = await _agent.RunAsync("kv", "put", "-cas", "-modify-index", "7", "k", "v");
        Assert.Equal(new CliRun(1, "", "Error! Did not write to k: CAS failed\n"), refused);
        Assert.Equal("PUT /v1/kv/k?cas=7", _agent.Request.ToString());

        _agent.Answer("PUT", "/v1/kv/k", "true");
        Assert.Equal(new CliRun(0, "Success! Data written to: k\n", ""), await _agent.RunAsync("kv", "put", "-cas", "-modify-index=0", "k", "v"));
        Assert.Equal("PUT /v1/kv/k?cas=0", _agent.Requests[1].ToString());

        var noIndex = await _agent.RunAsync("kv", "put", "-cas", "k", "v");
        Assert.Equal(new CliRun(1, "", "Must specify -modify-index with -cas!\n"), noIndex);
        Assert.Equal(2, _agent.Requests.Count);
    }

    [Fact]
    public async Task Put_acquires_and_releases_locks_for_a_session()
    {
        _agent.Answer("PUT", "/v1/kv/lock", "true");
        Assert.Equal(new CliRun(0, "Success! Lock acquired on: lock\n", ""), await _agent.RunAsync("kv", "put", "-acquire", "-session=abc", "lock", "me"));
        Assert.Equal("PUT /v1/kv/lock?acquire=abc", _agent.Requests[0].ToString());
        Assert.Equal("me", _agent.Requests[0].Body);

        _agent.Answer("PUT", "/v1/kv/lock", "false");
        Assert.Equal(new CliRun(1, "", "Error! Did not release lock\n"), await _agent.RunAsync("kv", "put", "-release", "-session", "abc", "-flags=3", "lock"));
        Assert.Equal("PUT /v1/kv/lock?release=abc&flags=3", _agent.Requests[1].ToString());

        var noSession = await _agent.RunAsync("kv", "put", "-acquire", "lock");
        Assert.Equal(new CliRun(1, "", "Error! Missing -session (required with -acquire and -release)\n"), noSession);
        Assert.Equal(2, _agent.Requests.Count);
    }

    [Fact]
    public async Task Get_prints_the_value_or_says_no_key_exists()
    {
        _agent.Answer("GET", "/v1/kv/app/config", Pair);
        Assert.Equal(new CliRun(0, "hello world\n", ""), await _agent.RunAsync("kv", "get", "-stale", "-datacenter=dc2", "/app/config"));
        Assert.Equal("GET /v1/kv/app/config?dc=dc2&stale", _agent.Request.ToString());
        Assert.Equal(new CliRun(0, "aGVsbG8gd29ybGQ=\n", ""), await _agent.RunAsync("kv", "get", "-base64", "app/config"));

        Assert.Equal(new CliRun(1, "", "Error! No key exists at: missing\n"), await _agent.RunAsync("kv", "get", "missing"));
        Assert.Equal(new CliRun(1, "", "Error! Missing KEY argument\n"), await _agent.RunAsync("kv", "get"));
        Assert.Equal(new CliRun(1, "", "Too many arguments (expected 1, got 2)\n"), await _agent.RunAsync("kv", "get", "a", "b"));
    }

    [Fact]
    public async Task Get_detailed_lays_out_the_metadata_as_consul_does()
    {
        _agent.Answer("GET", "/v1/kv/app/config", Pair);
        var run = await _agent.RunAsync("kv", "get", "-detailed", "app/config");
        Assert.Equal(0, run.Exit);
        Assert.Equal(
            """
            CreateIndex      5
            Flags            42
            Key              app/config
            LockIndex        1
            ModifyIndex      9
            Session          adf4238a
            Value            hello world

            """, run.Stdout);
    }

    [Fact]
    public async Task Get_recurse_and_keys_list_under_a_prefix()
    {
        _agent.Answer("GET", "/v1/kv/app/", """[{"Key":"app/a","Value":"MQ==","Flags":0},{"Key":"app/b","Value":null,"Flags":0}]""");
        Assert.Equal(new CliRun(0, "app/a:1\napp/b:\n", ""), await _agent.RunAsync("kv", "get", "-recurse", "app/"));
        Assert.Equal("GET /v1/kv/app/?recurse", _agent.Requests[^1].ToString());

        _agent.Answer("GET", "/v1/kv/", """["app/","top"]""");
        Assert.Equal(new CliRun(0, "app/\ntop\n", ""), await _agent.RunAsync("kv", "get", "-keys"));
        Assert.Equal("GET /v1/kv/?keys&separator=%2F", _agent.Requests[^1].ToString());
        Assert.Equal(0, (await _agent.RunAsync("kv", "get", "-keys", "-separator=", "app")).Exit);
        Assert.Equal("GET /v1/kv/app?keys", _agent.Requests[^1].ToString());

        // Nothing under the prefix is not an error, as in Consul.
        Assert.Equal(new CliRun(0, "", ""), await _agent.RunAsync("kv", "get", "-recurse", "nothing/"));
    }

    [Fact]
    public async Task Keys_are_escaped_segment_by_segment()
    {
        _agent.Answer("PUT", "/v1/kv/my%20app/a%3Fb", "true");
        Assert.Equal(0, (await _agent.RunAsync("kv", "put", "my app/a?b", "v")).Exit);
        Assert.Equal("PUT /v1/kv/my%20app/a%3Fb", _agent.Request.ToString());
    }

    [Fact]
    public async Task Delete_a_key_a_prefix_or_with_cas()
    {
        _agent.Answer("DELETE", "/v1/kv/k", "true");
        _agent.Answer("DELETE", "/v1/kv/app", "true");
        Assert.Equal(new CliRun(0, "Success! Deleted key: k\n", ""), await _agent.RunAsync("kv", "delete", "k"));
        Assert.Equal(new CliRun(0, "Success! Deleted keys with prefix: app\n", ""), await _agent.RunAsync("kv", "delete", "-recurse", "app"));
        Assert.Equal(new CliRun(0, "Success! Deleted key: k\n", ""), await _agent.RunAsync("kv", "delete", "-cas", "-modify-index=4", "k"));
        Assert.Equal(["DELETE /v1/kv/k", "DELETE /v1/kv/app?recurse", "DELETE /v1/kv/k?cas=4"], _agent.Requests.Select(r => r.ToString()));

        _agent.Answer("DELETE", "/v1/kv/k", "false");
        Assert.Equal(new CliRun(1, "", "Error! Did not delete key k: CAS failed\n"), await _agent.RunAsync("kv", "delete", "-cas", "-modify-index=4", "k"));
        Assert.Equal(new CliRun(1, "", "Cannot specify -modify-index without -cas!\n"), await _agent.RunAsync("kv", "delete", "-modify-index=4", "k"));
        Assert.Equal(new CliRun(1, "", "Cannot specify both -cas and -recurse!\n"), await _agent.RunAsync("kv", "delete", "-cas", "-modify-index=4", "-recurse", "k"));
        Assert.Equal(4, _agent.Requests.Count);
    }

    [Fact]
    public async Task An_error_status_prints_the_code_and_the_body()
    {
        _agent.Answer("PUT", "/v1/kv/k", "Permission denied", status: 403);
        _agent.Answer("GET", "/v1/kv/k", "rpc error: No cluster leader", status: 500);
        Assert.Equal(new CliRun(1, "", "Error! Failed writing data: Unexpected response code: 403 (Permission denied)\n"), await _agent.RunAsync("kv", "put", "-token=t", "k", "v"));
        Assert.Equal(new CliRun(1, "", "Error querying Consul agent: Unexpected response code: 500 (rpc error: No cluster leader)\n"), await _agent.RunAsync("kv", "get", "k"));
        Assert.Equal("t", _agent.Requests[0].Token);
        Assert.Null(_agent.Requests[1].Token);
    }
}
