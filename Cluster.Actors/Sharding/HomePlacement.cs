using System.Collections.Immutable;
using AkkaAddress = Akka.Actor.Address;

namespace Cluster.Actors.Sharding;

/// <summary>One shard region as placement sees it: where it runs and which shards it holds.</summary>
public sealed record RegionLoad<TRegion>(TRegion Region, AkkaAddress Address, IReadOnlyCollection<string> Shards);

/// <summary>
/// Where a home node's shard lives, as pure functions. A shard belongs on its home node's
/// region. While the home is alive (gossip names its actor address) but its region has not
/// registered yet, placement waits for it (Akka asks again), so a shard does not start elsewhere
/// only to move at the next rebalance. While the home is gone the shard goes to the least-loaded
/// region, and it moves back home once a region runs there again.
/// </summary>
public static class HomePlacement
{
    /// <summary>How many shards one rebalance round moves (hand-off stops their entities, so not all at once).</summary>
    public const int MaxMovesPerRound = 8;

    /// <returns>The region to place the shard on, or null to wait for its home's region.</returns>
    public static TRegion? Allocate<TRegion>(string shard, IReadOnlyList<RegionLoad<TRegion>> regions, Func<string, AkkaAddress?> homeOf)
        where TRegion : class
    {
        ArgumentNullException.ThrowIfNull(regions);
        ArgumentNullException.ThrowIfNull(homeOf);
        if (regions.Count == 0)
        {
            throw new InvalidOperationException($"no region to place shard '{shard}' on");
        }

        if (homeOf(shard) is { } home)
        {
            return regions.FirstOrDefault(r => r.Address.Equals(home))?.Region;
        }

        return regions
            .OrderBy(r => r.Shards.Count)
            .ThenBy(r => r.Address.ToString(), StringComparer.Ordinal)
            .First()
            .Region;
    }

    /// <summary>The shards away from a home that has a region again (not already moving), at most <see cref="MaxMovesPerRound"/>.</summary>
    public static ImmutableHashSet<string> Rebalance<TRegion>(IReadOnlyList<RegionLoad<TRegion>> regions, IReadOnlySet<string> inProgress, Func<string, AkkaAddress?> homeOf)
    {
        ArgumentNullException.ThrowIfNull(regions);
        ArgumentNullException.ThrowIfNull(inProgress);
        ArgumentNullException.ThrowIfNull(homeOf);
        var addresses = regions.Select(r => r.Address).ToHashSet();
        return regions
            .SelectMany(r => r.Shards.Select(s => (Shard: s, r.Address)))
            .Where(x => !inProgress.Contains(x.Shard)
                && homeOf(x.Shard) is { } home
                && !home.Equals(x.Address)
                && addresses.Contains(home))
            .Select(x => x.Shard)
            .Order(StringComparer.Ordinal)
            .Take(MaxMovesPerRound)
            .ToImmutableHashSet(StringComparer.Ordinal);
    }
}
