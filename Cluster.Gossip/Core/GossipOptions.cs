namespace Cluster.Gossip.Core;

/// <summary>
/// One member's protocol settings; defaults follow memberlist's LAN profile, the model the
/// benchmark compares against.
/// </summary>
public sealed record GossipOptions
{
    /// <summary>This member's unique name.</summary>
    public required string Name { get; init; }

    /// <summary>host:port other members reach this one at.</summary>
    public required string Address { get; init; }

    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>One member is probed per interval (scaled up by local health awareness).</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Added to the times this member is given to place them on a clock the pool shares (hosts set
    /// it from the wall clock), so probe rounds line up across members; see the probe schedule.
    /// </summary>
    public TimeSpan ClockOffset { get; init; }

    /// <summary>Wait this long for a direct ack before asking others to probe.</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Members asked to probe indirectly.</summary>
    public int IndirectChecks { get; init; } = 3;

    /// <summary>Suspicion lasts SuspicionMult · log10(N + 1) probe intervals at least, never under two (memberlist: 4).</summary>
    public int SuspicionMult { get; init; } = 4;

    /// <summary>With no confirmations, suspicion lasts this many times the minimum (Lifeguard).</summary>
    public int SuspicionMaxTimeoutMult { get; init; } = 6;

    /// <summary>Each broadcast is sent RetransmitMult · ceil(log10(N+1)) times.</summary>
    public int RetransmitMult { get; init; } = 4;

    /// <summary>Broadcasts are also pushed to GossipNodes random members every GossipInterval.</summary>
    public TimeSpan GossipInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    public int GossipNodes { get; init; } = 3;

    /// <summary>Full-state sync with one random member this often (0: never).</summary>
    public TimeSpan PushPullInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Local health awareness: timeouts stretch up to this multiple when this member misses its own deadlines.</summary>
    public int AwarenessMaxMultiplier { get; init; } = 8;

    /// <summary>Dead and left members are forgotten after this long.</summary>
    public TimeSpan DeadReclaimTime { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Bytes of a UDP packet (broadcasts piggyback up to it).</summary>
    public int PacketBudget { get; init; } = 1400;
}
