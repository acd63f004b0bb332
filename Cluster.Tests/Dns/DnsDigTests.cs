using System.Globalization;
using System.Text.Json.Nodes;
using Cluster.Testing;
using Cluster.Testing.Agent;

namespace Cluster.Tests.Dns;

/// <summary>A `cluster agent -dev` with services registered over HTTP (TTL checks passing and critical), for dig.</summary>
public sealed class DnsAgentFixture : IAsyncLifetime
{
    public const int BigCount = 100;

    public AgentProcess Agent { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Agent = await AgentProcess.StartAsync("dns", "-dev", "-node=dev", "-http-port=0", "-server-port=0", "-serf-lan-port=0");
        await RegisterAsync("web1", "web", 80, null, "v1", "pass");
        await RegisterAsync("web2", "web", 81, "127.0.0.2", "v2", "pass");
        await RegisterAsync("web3", "web", 82, "127.0.0.3", "v1", "fail");
        for (var i = 0; i < BigCount; i++)
        {
            await RegisterAsync($"big{i}", "big", 9000 + i, $"10.0.{i / 200}.{(i % 200) + 1}", null, check: null);
        }
    }

    /// <summary>Registers an instance; with a TTL check set to <paramref name="check"/> ("pass", "fail"), or none (passing).</summary>
    private async Task RegisterAsync(string id, string name, int port, string? address, string? tag, string? check)
    {
        var service = new JsonObject { ["ID"] = id, ["Name"] = name, ["Port"] = port };
        if (address is not null)
        {
            service["Address"] = address;
        }

        if (tag is not null)
        {
            service["Tags"] = new JsonArray(tag);
        }

        if (check is not null)
        {
            service["Check"] = new JsonObject { ["TTL"] = "10m" };
        }

        using (var registered = await Agent.Http.PutAsync("/v1/agent/service/register", new StringContent(service.ToJsonString())))
        {
            registered.EnsureSuccessStatusCode();
        }

        if (check is not null)
        {
            using var set = await Agent.Http.PutAsync($"/v1/agent/check/{check}/service:{id}", null);
            set.EnsureSuccessStatusCode();
        }
    }

    public async Task DisposeAsync() => await Agent.DisposeAsync();
}

/// <summary>dig (BIND's, from Debian's dnsutils) against the DNS interface of a real agent, over UDP and TCP.</summary>
[Trait("Category", "Integration")]
public sealed class DnsDigTests(DnsAgentFixture fixture) : IClassFixture<DnsAgentFixture>
{
    private readonly AgentProcess _agent = fixture.Agent;

    private async Task<string> DigAsync(params string[] args)
    {
        var (exit, stdout, stderr) = await PeerProcess.RunAsync(
            "dig",
            ["-p", _agent.DnsPort.ToString(CultureInfo.InvariantCulture), "@127.0.0.1", "+time=2", "+tries=1", .. args],
            TimeSpan.FromSeconds(30));
        Assert.True(exit == 0, $"dig {string.Join(' ', args)} failed ({exit}):\n{stdout}\n{stderr}\n--- agent ---\n{_agent.Output}");
        return stdout;
    }

    private async Task<string[]> ShortAsync(params string[] args) =>
        [.. (await DigAsync([.. args, "+short"])).Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task The_banner_names_the_dns_port()
    {
        Assert.True(_agent.DnsPort > 0);
        Assert.Contains($"(HTTP: {_agent.HttpPort}, DNS: {_agent.DnsPort})", _agent.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_answers_passing_instances_at_their_service_or_node_address()
    {
        Assert.Equal(["127.0.0.1", "127.0.0.2"], await ShortAsync("web.service.consul", "A"));
        Assert.Equal(["127.0.0.1"], await ShortAsync("v1.web.service.consul"));
        Assert.Equal(["127.0.0.2"], await ShortAsync("V2.Web.Service.DC1.Consul"));
    }

    [Fact]
    public async Task Srv_names_targets_with_their_addresses_in_the_additional_section()
    {
        var output = await DigAsync("web.service.consul", "SRV", "+noall", "+answer", "+additional");
        Assert.Matches(@"web\.service\.consul\.\s+0\s+IN\s+SRV\s+1 1 80 dev\.node\.dc1\.consul\.", output);
        Assert.Matches(@"web\.service\.consul\.\s+0\s+IN\s+SRV\s+1 1 81 7f000002\.addr\.dc1\.consul\.", output);
        Assert.Matches(@"dev\.node\.dc1\.consul\.\s+0\s+IN\s+A\s+127\.0\.0\.1", output);
        Assert.Matches(@"7f000002\.addr\.dc1\.consul\.\s+0\s+IN\s+A\s+127\.0\.0\.2", output);
        Assert.DoesNotContain(" 82 ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rfc2782_names_filter_by_tag_and_tcp_means_every_tag()
    {
        Assert.Equal(["1 1 81 7f000002.addr.dc1.consul."], await ShortAsync("_web._v2.service.consul", "SRV"));
        Assert.Equal(["1 1 80 dev.node.dc1.consul.", "1 1 81 7f000002.addr.dc1.consul."], await ShortAsync("_web._tcp.service.consul", "SRV"));
    }

    [Fact]
    public async Task Nodes_answer_their_address()
    {
        Assert.Equal(["127.0.0.1"], await ShortAsync("dev.node.consul"));
        Assert.Equal(["127.0.0.1"], await ShortAsync("dev.node.dc1.consul"));
    }

    [Fact]
    public async Task Unknown_names_are_nxdomain_with_the_soa()
    {
        var output = await DigAsync("nope.service.consul");
        Assert.Contains("status: NXDOMAIN", output, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^consul\.\s+0\s+IN\s+SOA\s+ns\.consul\. hostmaster\.consul\.", output);
    }

    [Fact]
    public async Task Other_domains_are_refused_since_we_do_not_recurse()
    {
        var output = await DigAsync("example.com");
        Assert.Contains("status: REFUSED", output, StringComparison.Ordinal);
        Assert.Matches(@";; flags: qr rd;", output);
        Assert.Contains("recursion requested but not available", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Udp_answers_too_large_are_truncated_and_tcp_carries_them_all()
    {
        var udp = await DigAsync("big.service.consul", "+ignore", "+bufsize=1232");
        Assert.Matches(@";; flags: qr aa tc rd;", udp);
        var plain = await DigAsync("big.service.consul", "+ignore", "+noedns");
        Assert.Matches(@";; flags: qr aa tc rd;", plain);
        Assert.Contains("MSG SIZE  rcvd: 5", plain, StringComparison.Ordinal);

        Assert.Equal(DnsAgentFixture.BigCount, (await ShortAsync("big.service.consul", "+tcp")).Length);
        Assert.Equal(DnsAgentFixture.BigCount, (await ShortAsync("big.service.consul", "SRV", "+tcp")).Length);
    }

    [Fact]
    public async Task The_domain_has_soa_and_ns()
    {
        var soa = Assert.Single(await ShortAsync("consul", "SOA"));
        Assert.StartsWith("ns.consul. hostmaster.consul. ", soa, StringComparison.Ordinal);
        Assert.Equal(["ns.consul."], await ShortAsync("consul", "NS"));
        Assert.Equal(["127.0.0.1"], await ShortAsync("ns.consul"));
    }
}
