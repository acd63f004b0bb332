using Cluster.Gossip.Core;

namespace Cluster.Testing.Sharded;

/// <summary>
/// Gossip timers for loopback tests: a failed member is declared within a few seconds, not tens.
/// Not faster: the in-process nodes live in the test host, which the whole suite loads, and with
/// a 100 ms probe timeout a one-second stall there had the others declare a live node failed
/// (and Akka down it) in full runs.
/// </summary>
public static class GossipTimers
{
    public static GossipOptions Fast(GossipOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with
        {
            ProbeInterval = TimeSpan.FromMilliseconds(500),
            ProbeTimeout = TimeSpan.FromMilliseconds(250),
            GossipInterval = TimeSpan.FromMilliseconds(50),
            PushPullInterval = TimeSpan.FromSeconds(5),
        };
    }
}
