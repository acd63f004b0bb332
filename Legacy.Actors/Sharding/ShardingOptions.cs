namespace Legacy.Actors.Sharding;

/// <summary>One entity type's sharding: how to build entities, find their ids, and move them.</summary>
public sealed record ShardingOptions
{
    /// <summary>Names the region and coordinator actors; the same on every node.</summary>
    public required string TypeName { get; init; }

    /// <summary>Props for the entity with this id (created on its first message).</summary>
    public required Func<string, Props> EntityProps { get; init; }

    /// <summary>The entity a message is for, or null if the message is not for this type (it goes to dead letters).</summary>
    public required Func<object, string?> EntityIdOf { get; init; }

    /// <summary>
    /// Fixed for the life of the cluster (it is part of every entity's address): about ten
    /// times the largest number of nodes you expect.
    /// </summary>
    public int NumberOfShards { get; init; } = 100;

    /// <summary>Entities that receive nothing for this long are stopped; null keeps them until hand-off.</summary>
    public TimeSpan? PassivateIdleAfter { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>What an entity is told to stop it for passivation or hand-off.</summary>
    public object StopMessage { get; init; } = PoisonPill.Instance;

    /// <summary>How often regions retry registration and unanswered shard-home requests.</summary>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the coordinator looks for an uneven spread of shards.</summary>
    public TimeSpan RebalanceInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Shards moved at once per rebalance round.</summary>
    public int MaxSimultaneousRebalance { get; init; } = 10;

    /// <summary>A hand-off not finished in this time is abandoned (the shard stays where it is).</summary>
    public TimeSpan HandOffTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A new coordinator waits until every member's region has registered (so it learns which
    /// shards are already running) or this long, before it allocates anything.
    /// </summary>
    public TimeSpan SettleTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Messages a region holds while it waits for shard homes; more go to dead letters.</summary>
    public int BufferCapacity { get; init; } = 100_000;

    internal string RegionName => "sharding-" + TypeName;

    internal string CoordinatorName => "sharding-" + TypeName + "-coordinator";
}
