namespace Legacy.Actors.Sharding;

/// <summary>A message on its way from the region to a local shard, with its entity id already extracted.</summary>
internal sealed record EntityMessage(string EntityId, object Message);

/// <summary>Region to local shard: stop every entity, then stop.</summary>
internal sealed record StopShard
{
    public static StopShard Instance { get; } = new();
}

/// <summary>A message a region or shard holds until it can be delivered.</summary>
internal sealed record Held(string EntityId, object Message, ActorRef? Sender);

/// <summary>Shard to region, just before it stops: messages it held for passivating entities, oldest first.</summary>
internal sealed record ReturnedBuffer(int Shard, IReadOnlyList<Held> Messages);

internal sealed record RetryTick
{
    public static RetryTick Instance { get; } = new();
}

internal sealed record RebalanceTick
{
    public static RebalanceTick Instance { get; } = new();
}

internal sealed record SettleTimeout
{
    public static SettleTimeout Instance { get; } = new();
}

internal sealed record HandOffTimedOut(int Shard);

internal sealed record PassivationTick
{
    public static PassivationTick Instance { get; } = new();
}
