using Akka.Actor;
using Akka.Cluster.Sharding;

namespace Cluster.Actors.Sharding;

/// <summary>Starts an entity type with our placement, extractor and stop message on a node's actor system.</summary>
public static class ShardedEntities
{
    /// <summary>This node hosts entities of <paramref name="typeName"/> and routes to them.</summary>
    public static IActorRef Start(ActorSystem system, string typeName, Func<string, Props> entityProps, NodeDirectory directory)
    {
        ArgumentNullException.ThrowIfNull(system);
        return ClusterSharding.Get(system).Start(
            typeName,
            entityProps,
            ClusterShardingSettings.Create(system),
            HomeMessageExtractor.Instance,
            new HomeAllocationStrategy(directory),
            EntityStop.Instance);
    }

    /// <summary>This node only routes to entities of <paramref name="typeName"/> hosted elsewhere.</summary>
    public static IActorRef StartProxy(ActorSystem system, string typeName)
    {
        ArgumentNullException.ThrowIfNull(system);
        // No role: the entities may live on any node.
        return ClusterSharding.Get(system).StartProxy(typeName, role: null!, HomeMessageExtractor.Instance);
    }
}
