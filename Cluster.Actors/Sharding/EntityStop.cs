namespace Cluster.Actors.Sharding;

/// <summary>Tells an entity to stop: on hand-off (its shard moves) and when it asked to be passivated.</summary>
public sealed class EntityStop
{
    public static EntityStop Instance { get; } = new();

    private EntityStop()
    {
    }
}
