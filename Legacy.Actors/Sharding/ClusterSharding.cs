using Legacy.Actors.Membership;

namespace Legacy.Actors.Sharding;

/// <summary>Starts sharding for one entity type on this node.</summary>
public static class ClusterSharding
{
    /// <summary>
    /// Starts this node's region and coordinator for <see cref="ShardingOptions.TypeName"/> and
    /// returns the region: tell it messages for entities of that type, from any node.
    /// Call it on every node that hosts the type, with the same options.
    /// </summary>
    public static ActorRef Start(ActorSystem system, ShardingOptions options, ClusterMembership membership)
    {
        Validate(system, options, membership);
        system.SystemActorOf(Props.Create(() => new ShardCoordinator(options, membership)), options.CoordinatorName);
        return system.SystemActorOf(Props.Create(() => new ShardRegion(options, membership, proxy: false)), options.RegionName);
    }

    /// <summary>
    /// Starts a region that routes messages to entities of the type but hosts none, for a node
    /// that is not in <paramref name="membership"/> (a client, a test driver).
    /// </summary>
    public static ActorRef StartProxy(ActorSystem system, ShardingOptions options, ClusterMembership membership)
    {
        Validate(system, options, membership);
        return system.SystemActorOf(Props.Create(() => new ShardRegion(options, membership, proxy: true)), options.RegionName + "-proxy");
    }

    private static void Validate(ActorSystem system, ShardingOptions options, ClusterMembership membership)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(membership);
        ActorPath.ValidateElement(options.TypeName);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.NumberOfShards, 1);
    }
}
