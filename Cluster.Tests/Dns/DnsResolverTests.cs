using Cluster.Agent.Dns;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Tests.Dns;

/// <summary>Consul's answers, query bytes in and response bytes out, over an in-memory catalog.</summary>
public sealed class DnsResolverTests
{
    private static readonly DnsOptions Options = new() { Datacenter = "dc1" };

    private static InMemoryDnsCatalog Catalog() => new InMemoryDnsCatalog()
        .Service("web", new("n1", "10.0.0.1", "", 80, ["v1", "primary"], DnsHealth.Passing))
        .Service("web", new("n2", "10.0.0.2", "", 8080, ["v2"], DnsHealth.Passing))
        .Service("web", new("n3", "10.0.0.3", "", 80, ["v1"], DnsHealth.Warning))
        .Service("web", new("n4", "10.0.0.4", "", 80, ["v1"], DnsHealth.Critical))
        .Service("api", new("n1", "10.0.0.1", "192.168.1.7", 9000, [], DnsHealth.Passing))
        .Service("db", new("n1", "10.0.0.1", "db.example.net", 5432, [], DnsHealth.Passing))
        .Service("down", new("n4", "10.0.0.4", "", 80, [], DnsHealth.Critical))
        .Node("v6", "fd00::1");

    internal static async Task<TestResponse?> AskAsync(IDnsCatalog catalog, byte[] query, bool tcp = false, DnsOptions? options = null, int seed = 1)
    {
        options ??= Options;
        var responder = new DnsResponder(new DnsResolver(catalog, options, new Random(seed), TimeProvider.System), options, NullLogger.Instance);
        var writer = new DnsMessageWriter();
        return await responder.RespondAsync(query, writer, tcp, CancellationToken.None) ? DnsTestWire.Decode(writer.Written.Span) : null;
    }

    private static async Task<TestResponse> AskAsync(string name, DnsType type, DnsOptions? options = null) =>
        (await AskAsync(Catalog(), DnsTestWire.Query(name, type), options: options))!;

    private static string[] Data(IEnumerable<TestRecord> records) => [.. records.Select(r => $"{r.Name} {r.Type} {r.Data}").Order(StringComparer.Ordinal)];

    [Fact]
    public async Task A_service_answers_its_passing_instances_only()
    {
        var response = await AskAsync("web.service.consul", DnsType.A);
        Assert.Equal(DnsResponseCode.NoError, response.Code);
        Assert.True(response.Authoritative);
        Assert.False(response.RecursionAvailable);
        Assert.Equal(["web.service.consul A 10.0.0.1", "web.service.consul A 10.0.0.2"], Data(response.Answers));
        Assert.All(response.Answers, r => Assert.Equal(0u, r.Ttl));
    }

    [Fact]
    public async Task Without_only_passing_warning_instances_answer_too_but_critical_ones_never()
    {
        var response = await AskAsync("web.service.consul", DnsType.A, Options with { OnlyPassing = false });
        Assert.Equal(["web.service.consul A 10.0.0.1", "web.service.consul A 10.0.0.2", "web.service.consul A 10.0.0.3"], Data(response.Answers));
    }

    [Fact]
    public async Task A_tag_and_a_datacenter_narrow_the_lookup()
    {
        Assert.Equal(["v1.web.service.consul A 10.0.0.1"], Data((await AskAsync("v1.web.service.consul", DnsType.A)).Answers));
        Assert.Equal(["v2.web.service.dc1.consul A 10.0.0.2"], Data((await AskAsync("v2.web.service.dc1.consul", DnsType.A)).Answers));
        var elsewhere = await AskAsync("web.service.dc2.consul", DnsType.A);
        Assert.Equal(DnsResponseCode.NameError, elsewhere.Code);
    }

    [Fact]
    public async Task Srv_targets_the_node_with_its_address_as_glue()
    {
        var response = await AskAsync("web.service.consul", DnsType.Srv);
        Assert.Equal(
            ["web.service.consul Srv 1 1 80 n1.node.dc1.consul", "web.service.consul Srv 1 1 8080 n2.node.dc1.consul"],
            Data(response.Answers));
        Assert.Equal(["n1.node.dc1.consul A 10.0.0.1", "n2.node.dc1.consul A 10.0.0.2"], Data(response.Additional.Where(r => r.Type != DnsType.Opt)));
    }

    [Fact]
    public async Task Rfc2782_names_take_the_tag_from_the_protocol_label_and_tcp_means_any()
    {
        Assert.Equal(["_web._v2.service.consul Srv 1 1 8080 n2.node.dc1.consul"], Data((await AskAsync("_web._v2.service.consul", DnsType.Srv)).Answers));
        Assert.Equal(2, (await AskAsync("_web._tcp.service.dc1.consul", DnsType.Srv)).Answers.Count);
    }

    [Fact]
    public async Task A_service_with_an_address_of_its_own_answers_it_and_targets_a_synthetic_addr_name()
    {
        Assert.Equal(["api.service.consul A 192.168.1.7"], Data((await AskAsync("api.service.consul", DnsType.A)).Answers));
        var srv = await AskAsync("api.service.consul", DnsType.Srv);
        Assert.Equal(["api.service.consul Srv 1 1 9000 c0a80107.addr.dc1.consul"], Data(srv.Answers));
        Assert.Equal(["c0a80107.addr.dc1.consul A 192.168.1.7"], Data(srv.Additional));
        Assert.Equal(["c0a80107.addr.dc1.consul A 192.168.1.7"], Data((await AskAsync("c0a80107.addr.dc1.consul", DnsType.A)).Answers));
    }

    [Fact]
    public async Task A_host_name_address_is_a_cname_and_the_srv_target_itself()
    {
        Assert.Equal(["db.service.consul CName db.example.net"], Data((await AskAsync("db.service.consul", DnsType.A)).Answers));
        var srv = await AskAsync("db.service.consul", DnsType.Srv);
        Assert.Equal(["db.service.consul Srv 1 1 5432 db.example.net"], Data(srv.Answers));
        Assert.Empty(srv.Additional);
    }

    [Fact]
    public async Task Nodes_answer_their_address_and_nodata_for_the_other_family()
    {
        Assert.Equal(["n1.node.consul A 10.0.0.1"], Data((await AskAsync("n1.node.consul", DnsType.A)).Answers));
        Assert.Equal(["v6.node.dc1.consul Aaaa fd00::1"], Data((await AskAsync("v6.node.dc1.consul", DnsType.Aaaa)).Answers));
        var nodata = await AskAsync("n1.node.consul", DnsType.Aaaa);
        Assert.Equal(DnsResponseCode.NoError, nodata.Code);
        Assert.Empty(nodata.Answers);
        Assert.Equal(["consul Soa ns.consul hostmaster.consul min 0"], Data(nodata.Authority));
    }

    [Theory]
    [InlineData("missing.service.consul")]
    [InlineData("down.service.consul")]
    [InlineData("missing.node.consul")]
    [InlineData("a.b.c.service.consul")]
    [InlineData("what.consul")]
    [InlineData("zz.addr.consul")]
    public async Task Unknown_names_under_the_domain_are_nxdomain_with_the_soa(string name)
    {
        var response = await AskAsync(name, DnsType.A);
        Assert.Equal(DnsResponseCode.NameError, response.Code);
        Assert.Empty(response.Answers);
        Assert.Equal(DnsType.Soa, Assert.Single(response.Authority).Type);
    }

    [Fact]
    public async Task A_known_name_without_records_of_the_type_is_nodata()
    {
        var response = await AskAsync("web.service.consul", DnsType.Txt);
        Assert.Equal((DnsResponseCode.NoError, 0, 1), (response.Code, response.Answers.Count, response.Authority.Count));
    }

    [Theory]
    [InlineData("example.com")]
    [InlineData("consul.example.com")]
    [InlineData("")]
    public async Task Names_outside_the_domain_are_refused_without_recursion(string name)
    {
        var response = await AskAsync(name, DnsType.A);
        Assert.Equal(DnsResponseCode.Refused, response.Code);
        Assert.True(response.RecursionDesired);
        Assert.False(response.RecursionAvailable);
        Assert.Empty(response.Answers);
    }

    [Fact]
    public async Task The_domain_has_an_soa_and_an_ns_with_glue()
    {
        Assert.Equal(["consul Soa ns.consul hostmaster.consul min 0"], Data((await AskAsync("consul", DnsType.Soa)).Answers));
        var ns = await AskAsync("consul", DnsType.NS);
        Assert.Equal(["consul NS ns.consul"], Data(ns.Answers));
        Assert.Equal(["ns.consul A 127.0.0.1"], Data(ns.Additional));
        Assert.Equal(["ns.consul A 127.0.0.1"], Data((await AskAsync("ns.consul", DnsType.A)).Answers));
    }

    [Fact]
    public async Task Names_match_case_insensitively_and_answer_in_the_askers_casing()
    {
        var response = await AskAsync("V1.WeB.SERVICE.Consul", DnsType.A);
        Assert.Equal(("V1.WeB.SERVICE.Consul", DnsType.A), Assert.Single(response.Questions));
        Assert.Equal(["V1.WeB.SERVICE.Consul A 10.0.0.1"], Data(response.Answers));
        var srv = await AskAsync("WEB.service.CONSUL", DnsType.Srv);
        Assert.Contains("WEB.service.CONSUL Srv 1 1 80 n1.node.dc1.CONSUL", Data(srv.Answers));
    }

    [Fact]
    public async Task A_configured_domain_and_ttls_are_used()
    {
        var options = Options with { Domain = "mesh.internal.", NodeTtl = TimeSpan.FromSeconds(30), ServiceTtl = TimeSpan.FromSeconds(5), SoaMinTtl = TimeSpan.FromSeconds(7) };
        var service = await AskAsync("web.service.mesh.internal", DnsType.Srv, options);
        Assert.All(service.Answers, r => Assert.Equal(5u, r.Ttl));
        Assert.All(service.Additional, r => Assert.Equal(30u, r.Ttl));
        Assert.Equal(30u, Assert.Single((await AskAsync("n1.node.mesh.internal", DnsType.A, options)).Answers).Ttl);
        var negative = await AskAsync("nope.node.mesh.internal", DnsType.A, options);
        Assert.Equal("mesh.internal Soa ns.mesh.internal hostmaster.mesh.internal min 7", Data(negative.Authority).Single());
        Assert.Equal(7u, negative.Authority[0].Ttl);
        Assert.Equal(DnsResponseCode.Refused, (await AskAsync("web.service.consul", DnsType.A, options)).Code);
    }

    [Fact]
    public async Task Instances_come_in_random_order_from_the_injected_random()
    {
        var catalog = new InMemoryDnsCatalog();
        for (var i = 1; i <= 8; i++)
        {
            catalog.Service("many", new($"n{i}", $"10.0.1.{i}", "", 80, [], DnsHealth.Passing));
        }

        var orders = new HashSet<string>(StringComparer.Ordinal);
        for (var seed = 0; seed < 10; seed++)
        {
            var response = await AskAsync(catalog, DnsTestWire.Query("many.service.consul", DnsType.A), seed: seed);
            Assert.Equal(8, response!.Answers.Count);
            orders.Add(string.Join(',', response.Answers.Select(a => a.Data)));
        }

        Assert.True(orders.Count > 5, $"only {orders.Count} orders in 10 seeds");
        var again = await AskAsync(catalog, DnsTestWire.Query("many.service.consul", DnsType.A), seed: 3);
        var first = await AskAsync(catalog, DnsTestWire.Query("many.service.consul", DnsType.A), seed: 3);
        Assert.Equal(first!.Answers, again!.Answers);
    }

    [Fact]
    public async Task A_failing_catalog_is_servfail()
    {
        var catalog = Catalog();
        catalog.Failure = new InvalidOperationException("no leader");
        var response = await AskAsync(catalog, DnsTestWire.Query("web.service.consul", DnsType.A));
        Assert.Equal(DnsResponseCode.ServerFailure, response!.Code);
        Assert.Equal(0x1234, response.Id);
    }
}
