using Legacy.Actors.Sharding;

namespace Cluster.Testing.Sharding;

/// <summary>The sharding settings the shard-node processes and the tests that drive them share.</summary>
public static class ShardNodeOptions
{
    public static ShardingOptions For(int shards) => TestEntity.Options(shards: shards) with
    {
        RetryInterval = TimeSpan.FromMilliseconds(200),
        RebalanceInterval = TimeSpan.FromMilliseconds(500),
        SettleTimeout = TimeSpan.FromSeconds(2),
        PassivateIdleAfter = null,
    };
}
