using Cluster.Server.Connect;

namespace Cluster.Tests.Connect;

/// <summary>Consul's intention precedence and L4 authorization, as tables.</summary>
public sealed class IntentionRulesTests
{
    private static ServiceName N(string text) => text.Split('/') is [var ns, var name] ? new(ns, name) : ServiceName.Default(text);

    private static IntentionRule R(string source, string destination, IntentionAction action) => new(N(source), N(destination), action);

    [Theory]
    [InlineData("default/web", "default/db", 9)]
    [InlineData("default/*", "default/db", 8)]
    [InlineData("*/*", "default/db", 7)]
    [InlineData("default/web", "default/*", 6)]
    [InlineData("default/*", "default/*", 5)]
    [InlineData("*/*", "default/*", 4)]
    [InlineData("default/web", "*/*", 3)]
    [InlineData("default/*", "*/*", 2)]
    [InlineData("*/*", "*/*", 1)]
    [InlineData("*/web", "default/db", 0)]
    [InlineData("default/web", "*/db", 0)]
    public void Precedence_follows_consuls_nine_levels(string source, string destination, int expected) =>
        Assert.Equal(expected, IntentionRules.Precedence(N(source), N(destination)));

    [Theory]
    [InlineData("*/web", "db", "an exact name under a wildcard namespace")]
    [InlineData("web", "/db", "needs a namespace and a name")]
    public void Shapes_consul_refuses_are_named(string source, string destination, string reason) =>
        Assert.Contains(reason, IntentionRules.Invalid(N(source), N(destination)), StringComparison.Ordinal);

    public static TheoryData<string, IntentionRule[], bool, bool, string> Cases => new()
    {
        { "nothing matches: default allow", [R("api", "db", IntentionAction.Deny)], true, true, "Default behavior" },
        { "nothing matches: default deny", [R("api", "db", IntentionAction.Allow)], false, false, "Default behavior" },
        { "exact allow", [R("web", "db", IntentionAction.Allow)], false, true, "web => db (allow)" },
        { "exact deny beats a wildcard allow", [R("*/*", "db", IntentionAction.Allow), R("web", "db", IntentionAction.Deny)], true, false, "web => db (deny)" },
        { "exact allow beats a wildcard deny", [R("*/*", "*/*", IntentionAction.Deny), R("web", "db", IntentionAction.Allow)], false, true, "web => db (allow)" },
        { "destination exactness outranks source exactness", [R("web", "*/*", IntentionAction.Allow), R("*/*", "db", IntentionAction.Deny)], true, false, "* => db (deny)" },
        { "deny wins between equals", [R("web", "db", IntentionAction.Allow), R("web", "db", IntentionAction.Deny)], true, false, "(deny)" },
        { "deny wins between equals, in any order", [R("web", "db", IntentionAction.Deny), R("web", "db", IntentionAction.Allow)], true, false, "(deny)" },
        // CVE-2021-36213's class: an L7 intention must not let a whole connection through at L4.
        { "an L7 intention counts as deny for a connection", [R("web", "db", IntentionAction.L7Permissions)], true, false, "L7 permissions" },
        { "an L7 intention outranks a wildcard allow", [R("*/*", "*/*", IntentionAction.Allow), R("web", "db", IntentionAction.L7Permissions)], true, false, "L7 permissions" },
        { "another destination's intention does not apply", [R("web", "cache", IntentionAction.Deny)], true, true, "Default behavior" },
        { "another namespace's intention does not apply", [R("team/web", "db", IntentionAction.Deny)], true, true, "Default behavior" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_matching_intention_of_highest_precedence_decides(string name, IntentionRule[] intentions, bool defaultAllow, bool authorized, string reason)
    {
        _ = name;
        var result = IntentionRules.Authorize(intentions, N("web"), N("db"), defaultAllow);
        Assert.Equal(authorized, result.Authorized);
        Assert.Contains(reason, result.Reason, StringComparison.Ordinal);
    }

    /// <summary>A seeded random set of intentions: the decision equals a brute-force reading of the rules.</summary>
    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    public void Authorization_agrees_with_a_brute_force_model(int seed)
    {
        var random = new Random(seed);
        string[] names = ["web", "db", "*"];
        string[] spaces = ["default", "team", "*"];
        ServiceName Pick()
        {
            var ns = spaces[random.Next(spaces.Length)];
            return new ServiceName(ns, ns == "*" ? "*" : names[random.Next(names.Length)]);
        }

        for (var round = 0; round < 500; round++)
        {
            var rules = Enumerable.Range(0, random.Next(0, 8)).Select(_ => new IntentionRule(Pick(), Pick(), (IntentionAction)random.Next(3))).ToList();
            var source = new ServiceName(spaces[random.Next(2)], names[random.Next(2)]);
            var destination = new ServiceName(spaces[random.Next(2)], names[random.Next(2)]);
            var defaultAllow = random.Next(2) == 0;
            var matching = rules.Where(r => r.Source.Matches(source) && r.Destination.Matches(destination)).ToList();
            bool expected;
            if (matching.Count == 0)
            {
                expected = defaultAllow;
            }
            else
            {
                var top = matching.Max(r => IntentionRules.Precedence(r.Source, r.Destination));
                expected = matching.Where(r => IntentionRules.Precedence(r.Source, r.Destination) == top).All(r => r.Action == IntentionAction.Allow);
            }

            Assert.Equal(expected, IntentionRules.Authorize(rules, source, destination, defaultAllow).Authorized);
        }
    }
}
