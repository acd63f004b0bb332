namespace Legacy.Actors.Sharding;

/// <summary>
/// An entity tells its parent (the shard) it wants to stop: the shard holds new messages for
/// it, tells it <paramref name="StopMessage"/>, and restarts it if messages arrived meanwhile.
/// </summary>
public sealed record Passivate(object StopMessage);
