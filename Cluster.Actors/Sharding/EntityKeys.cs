namespace Cluster.Actors.Sharding;

/// <summary>
/// Entity and shard ids. One shard per home node ("all of node X's entities"), so placing a
/// shard is placing a node's entities; the entity id carries its home, so an id alone (Akka's
/// StartEntity, remembered entities) still finds its shard.
/// </summary>
public static class EntityKeys
{
    private const char Separator = '/';

    public static string EntityId(string home, string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(home);
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (home.Contains(Separator, StringComparison.Ordinal))
        {
            throw new ArgumentException($"a home node name must not contain '{Separator}': {home}", nameof(home));
        }

        return home + Separator + id;
    }

    /// <summary>The shard (home node) of an entity id made by <see cref="EntityId"/>.</summary>
    public static string ShardOf(string entityId)
    {
        ArgumentNullException.ThrowIfNull(entityId);
        var at = entityId.IndexOf(Separator, StringComparison.Ordinal);
        return at > 0 ? entityId[..at] : throw new ArgumentException($"not an entity id of the form home/id: {entityId}", nameof(entityId));
    }
}
