using System.Collections.Immutable;
using AkkaAddress = Akka.Actor.Address;

namespace Cluster.Actors.Formation;

/// <summary>
/// The Akka cluster follows the gossip pool; this is the decision, with no I/O. One failure
/// detector: gossip's (SWIM with Lifeguard, which already tells a slow member from a dead one).
/// Akka's own detector may mark a member unreachable, but only gossip downs it: a member gossip
/// declares failed or left is downed, and one gossip still counts alive is never downed on
/// Akka's word. Two detectors with different timeouts would otherwise disagree about the same
/// node, and whichever acted first would decide.
/// </summary>
public static class FormationPlanner
{
    /// <param name="self">This node's actor address.</param>
    /// <param name="pool">Every gossip member this node knows, itself included.</param>
    /// <param name="akkaMembers">The Akka cluster's members as this node sees them (empty before it joins).</param>
    /// <param name="joinRequested">Whether this node has already asked to join.</param>
    /// <param name="previous">The directory of the last plan: a name now advertising another address has restarted, and its old address is gone.</param>
    /// <param name="poolSettled">Whether gossip has had time to learn the pool (the node joined its configured peers, or waited long enough), so a node does not form a cluster of its own while the others are still unknown to it.</param>
    public static FormationPlan Plan(
        AkkaAddress self,
        IReadOnlyCollection<PoolMember> pool,
        IReadOnlyCollection<AkkaAddress> akkaMembers,
        bool joinRequested,
        bool poolSettled,
        IReadOnlyDictionary<string, AkkaAddress>? previous = null)
    {
        ArgumentNullException.ThrowIfNull(self);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(akkaMembers);

        var directory = ImmutableDictionary.CreateBuilder<string, AkkaAddress>(StringComparer.Ordinal);
        var alive = new HashSet<AkkaAddress>();
        var gone = new HashSet<AkkaAddress>();
        foreach (var member in pool)
        {
            if (member.Actors is not { } address)
            {
                continue;
            }

            if (member.State == PoolMemberState.Alive)
            {
                directory[member.Name] = address;
                alive.Add(address);
            }
            else
            {
                gone.Add(address);
            }
        }

        // A member restarted on a new port comes back under the same name, possibly before gossip
        // ever saw it fail: its old address is gone. (On the same port Akka replaces the old
        // incarnation itself.) A member at an address gossip has never mentioned is left alone:
        // gossip may simply not have reached this node yet.
        foreach (var (name, old) in previous ?? ImmutableDictionary<string, AkkaAddress>.Empty)
        {
            if (directory.TryGetValue(name, out var now) && !now.Equals(old))
            {
                gone.Add(old);
            }
        }

        var down = akkaMembers
            .Where(m => !m.Equals(self) && gone.Contains(m) && !alive.Contains(m))
            .OrderBy(m => m.ToString(), StringComparer.Ordinal)
            .ToImmutableArray();

        ImmutableArray<AkkaAddress>? seeds = null;
        if (!joinRequested && poolSettled)
        {
            alive.Add(self);

            // Everyone orders the seeds the same way, so when no cluster exists yet exactly one
            // node (the first) forms it and the others join it; when one exists, any member answers.
            seeds = [.. alive.OrderBy(a => a.Host, StringComparer.Ordinal).ThenBy(a => a.Port)];
        }

        return new FormationPlan(seeds, down, directory.ToImmutable());
    }
}
