using Cluster.Agent.Connect;
using Cluster.Server.Connect;
using Cluster.Server.Nodes;

namespace Cluster.Tests.Connect;

/// <summary>The agent's authorize decision: the indexed intentions against the brute-force rules, identities, trust domains.</summary>
public sealed class ConnectAuthorizeTests
{
    private const string Domain = "11111111-2222-3333-4444-555555555555.consul";

    private static ServiceName N(string text) => text.Split('/') is [var ns, var name] ? new(ns, name) : ServiceName.Default(text);

    private static IntentionRule R(string source, string destination, IntentionAction action) => new(N(source), N(destination), action);

    private static string Uri(string service, string ns = "default", string domain = Domain) => $"spiffe://{domain}/ns/{ns}/dc/dc1/svc/{service}";

    private static Authorization Authorize(IntentionIndex index, string clientUri, string target = "db", string? trustDomain = Domain) =>
        ConnectAuthorizer.Authorize(index, new AuthorizeRequest(target, "", clientUri, "01:02"), trustDomain, IntentionDefault.AclsDisabled);

    [Fact]
    public void CVE_2021_36213_an_L7_intention_denies_a_whole_connection_and_never_fails_open()
    {
        // Consul 1.10.0 allowed an L4 connection when the only intention had L7 permissions.
        var index = IntentionIndex.Build([R("web", "db", IntentionAction.L7Permissions), R("*/*", "*/*", IntentionAction.Allow)], 5);
        var decision = Authorize(index, Uri("web"));
        Assert.False(decision.Authorized);
        Assert.StartsWith("Matched L7 intention: web => db", decision.Reason, StringComparison.Ordinal);

        // Under the default-allow policy too: the L7 intention matched, so the default never applies.
        Assert.False(Authorize(IntentionIndex.Build([R("web", "db", IntentionAction.L7Permissions)], 5), Uri("web")).Authorized);
    }

    [Fact]
    public void An_exact_intention_beats_a_wildcard_one_either_way()
    {
        var index = IntentionIndex.Build([R("*/*", "db", IntentionAction.Deny), R("web", "db", IntentionAction.Allow), R("default/*", "*/*", IntentionAction.Allow)], 7);
        Assert.Equal((true, "Matched L4 intention: web => db (allow)"), (Authorize(index, Uri("web")).Authorized, Authorize(index, Uri("web")).Reason));
        Assert.Equal((false, "Matched L4 intention: */* => db (deny)"), (Authorize(index, Uri("api")).Authorized, Authorize(index, Uri("api")).Reason));
        Assert.Equal((true, "Matched L4 intention: * => */* (allow)"), (Authorize(index, Uri("api"), "cache").Authorized, Authorize(index, Uri("api"), "cache").Reason));
    }

    [Fact]
    public void Nothing_matching_is_the_default_policy_and_its_reason()
    {
        var decision = Authorize(IntentionIndex.Empty, Uri("web"));
        Assert.Equal((true, "ACLs disabled, access is allowed by default"), (decision.Authorized, decision.Reason));
        var denyByDefault = ConnectAuthorizer.Authorize(IntentionIndex.Empty, new("db", "", Uri("web"), ""), Domain, IntentionDefault.FromAcls(false));
        Assert.Equal((false, "Default behavior configured by ACLs"), (denyByDefault.Authorized, denyByDefault.Reason));
    }

    [Fact]
    public void An_identity_from_another_trust_domain_is_not_authorized_even_where_intentions_allow()
    {
        var index = IntentionIndex.Build([R("web", "db", IntentionAction.Allow)], 1);
        var foreign = Authorize(index, Uri("web", domain: "99999999-0000-0000-0000-000000000000.consul"));
        Assert.Equal((false, ConnectAuthorizer.ExternalTrustDomain), (foreign.Authorized, foreign.Reason));
        Assert.True(Authorize(index, Uri("web", domain: Domain.ToUpperInvariant().ToLowerInvariant())).Authorized);

        // While the CA has not told the agent its trust domain, the domain is not checked.
        Assert.True(Authorize(index, Uri("web", domain: "other.consul"), trustDomain: null).Authorized);
    }

    [Fact]
    public void Namespaces_of_identity_and_target_are_respected()
    {
        var index = IntentionIndex.Build([R("team/web", "team/db", IntentionAction.Deny), R("team/*", "default/db", IntentionAction.Deny)], 1);
        Assert.False(ConnectAuthorizer.Authorize(index, new("db", "team", Uri("web", "team"), ""), Domain, IntentionDefault.AclsDisabled).Authorized);
        Assert.True(ConnectAuthorizer.Authorize(index, new("db", "team", Uri("web"), ""), Domain, IntentionDefault.AclsDisabled).Authorized);
        Assert.False(Authorize(index, Uri("api", "team")).Authorized);
    }

    [Theory]
    [InlineData("", "spiffe://d.consul/ns/default/dc/dc1/svc/web", "Target service must be specified")]
    [InlineData("*", "spiffe://d.consul/ns/default/dc/dc1/svc/web", "not a wildcard")]
    [InlineData("db", "", "ClientCertURI not a valid Connect identifier")]
    [InlineData("db", "https://example.com/web", "ClientCertURI not a valid Connect identifier")]
    [InlineData("db", "spiffe://d.consul/agent/client/dc/dc1/id/abc", "ClientCertURI not a valid Service identifier")]
    [InlineData("db", "spiffe://d.consul", "ClientCertURI not a valid Connect identifier")]
    [InlineData("db", "spiffe://d.consul/ns/default/dc/dc1/svc/web?x=1", "ClientCertURI not a valid Service identifier")]
    [InlineData("db", "spiffe://d.consul/ns/default/dc/dc1/svc/web/../db", "ClientCertURI not a valid Service identifier")]
    public void A_request_naming_no_service_identity_is_a_400(string target, string uri, string reason)
    {
        var e = Assert.Throws<InvalidRequestException>(() => Authorize(IntentionIndex.Empty, uri, target));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_destination_whose_entry_could_not_be_read_is_refused()
    {
        var index = IntentionIndex.Build([R("web", "cache", IntentionAction.Allow)], 1, unreadable: ["team/db"]);
        var decision = Authorize(index, Uri("web"));
        Assert.False(decision.Authorized);
        Assert.Contains("could not be read", decision.Reason, StringComparison.Ordinal);
        Assert.True(Authorize(index, Uri("web"), "cache").Authorized);
    }

    /// <summary>Seeded random rule sets: the nine-lookup index decides exactly as the brute-force rules do.</summary>
    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    [InlineData(23)]
    public void The_index_agrees_with_the_brute_force_rules(int seed)
    {
        var random = new Random(seed);
        string[] names = ["web", "db", "api", "*"];
        string[] spaces = ["default", "team", "*"];
        ServiceName Pick()
        {
            var ns = spaces[random.Next(spaces.Length)];
            return new ServiceName(ns, ns == "*" ? "*" : names[random.Next(names.Length)]);
        }

        for (var round = 0; round < 2000; round++)
        {
            var rules = Enumerable.Range(0, random.Next(0, 12)).Select(_ => new IntentionRule(Pick(), Pick(), (IntentionAction)random.Next(3))).ToList();
            var index = IntentionIndex.Build(rules, (ulong)round);
            var source = new ServiceName(spaces[random.Next(2)], names[random.Next(3)]);
            var destination = new ServiceName(spaces[random.Next(2)], names[random.Next(3)]);
            var fallback = random.Next(2) == 0 ? IntentionDefault.AclsDisabled : IntentionDefault.FromAcls(false);
            var expected = IntentionRules.Authorize(rules, source, destination, fallback);
            var actual = index.Authorize(source, destination, fallback);
            Assert.True(expected.Authorized == actual.Authorized, $"round {round}: {source} -> {destination} with [{string.Join(", ", rules)}]: {expected.Reason} vs {actual.Reason}");
            Assert.Equal(IntentionRules.Precedence(expected.Matched?.Source ?? source, expected.Matched?.Destination ?? destination) * (expected.Matched is null ? 0 : 1),
                IntentionRules.Precedence(actual.Matched?.Source ?? source, actual.Matched?.Destination ?? destination) * (actual.Matched is null ? 0 : 1));
        }
    }
}
