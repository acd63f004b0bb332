using Cluster.Gossip.Core;

namespace Cluster.Testing.Sharded;

/// <summary>Gossip timers for loopback tests: a failed member is declared within a few seconds, not tens.</summary>
public static class GossipTimers
{
    public static GossipOptions Fast(GossipOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with
        {
            ProbeInterval = TimeSpan.FromMilliseconds(200),
            ProbeTimeout = TimeSpan.FromMilliseconds(100),
            GossipInterval = TimeSpan.FromMilliseconds(50),
            PushPullInterval = TimeSpan.FromSeconds(5),
        };
    }
}
