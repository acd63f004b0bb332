using Cluster.Server.Leader;

namespace Cluster.Tests.Leader;

public sealed class ReapRuleTests
{
    private static readonly TimeSpan Convergence = TimeSpan.FromSeconds(60);

    public static TheoryData<string, string, int, string> Cases() => new()
    {
        // checks (node:status), gossip members, uptime (s) → reaped
        { "a:passing,b:critical", "a,b", 120, "" },
        { "a:passing,b:critical", "a", 120, "b" },           // failed, then reaped by gossip
        { "a:passing,b:passing", "a", 120, "" },             // unknown but last seen alive: not ours to judge
        { "a:passing,b:critical", "a", 30, "" },             // gossip too young to know every member
        { "a:critical,b:critical", "", 60, "a,b" },
        { "A:critical", "a", 120, "" },                      // node names compare without case, as the catalog's
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Only_nodes_seen_failing_and_unknown_to_a_settled_gossip_pool_are_reaped(string checks, string members, int uptimeSeconds, string expected)
    {
        var serf = checks.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(c => (c.Split(':')[0], c.Split(':')[1]));
        var reaped = ReapRule.Reaped(serf, members.Split(',', StringSplitOptions.RemoveEmptyEntries), TimeSpan.FromSeconds(uptimeSeconds), Convergence);
        Assert.Equal(expected.Split(',', StringSplitOptions.RemoveEmptyEntries), reaped);
    }
}
