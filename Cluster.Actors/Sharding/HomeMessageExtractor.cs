using Akka.Cluster.Sharding;

namespace Cluster.Actors.Sharding;

/// <summary>
/// Routes <see cref="IEntityMessage"/>s to their home's shard. (Akka unwraps its own
/// ShardingEnvelope and StartEntity before asking; their ids come from <see cref="EntityKeys"/>,
/// so <see cref="ShardId(string, object?)"/> finds the home in them.)
/// </summary>
public sealed class HomeMessageExtractor : IMessageExtractor
{
    public static HomeMessageExtractor Instance { get; } = new();

    public string? EntityId(object message) => message is IEntityMessage m ? EntityKeys.EntityId(m.Home, m.EntityId) : null;

    public object? EntityMessage(object message) => message;

    public string? ShardId(object message) => message is IEntityMessage m ? m.Home : null;

    public string ShardId(string entityId, object? messageHint = null) => EntityKeys.ShardOf(entityId);
}
