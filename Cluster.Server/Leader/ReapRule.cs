namespace Cluster.Server.Leader;

/// <summary>
/// Which catalog nodes the leader deregisters because gossip reaped them: nodes with a serfHealth
/// check that the leader's gossip does not know. Unknown is not enough: a server that has just
/// restarted knows only the members its join reached (none, if its join targets are down), yet
/// Raft — which has its own addresses — can make it leader at once; deregistering every node it
/// has not heard of destroyed their sessions and released their locks. So a node counts as reaped
/// only if a leader already saw it fail (its serfHealth is critical) and this server's gossip has
/// run long enough to have learned every member, failed ones included (push-pull exchanges whole
/// member lists, and failed members stay listed until they are reaped).
/// </summary>
public static class ReapRule
{
    /// <summary>The nodes to deregister, given each serfHealth check's node and status and the names gossip knows.</summary>
    public static IReadOnlyList<string> Reaped(
        IEnumerable<(string Node, string Status)> serfChecks, IEnumerable<string> members, TimeSpan gossipUptime, TimeSpan convergence)
    {
        ArgumentNullException.ThrowIfNull(serfChecks);
        ArgumentNullException.ThrowIfNull(members);
        if (gossipUptime < convergence)
        {
            return [];
        }

        var known = members.ToHashSet(StringComparer.OrdinalIgnoreCase);
        return [.. serfChecks.Where(c => c.Status == "critical" && !known.Contains(c.Node)).Select(c => c.Node).Distinct(StringComparer.OrdinalIgnoreCase)];
    }
}
