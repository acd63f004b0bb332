namespace Cluster.Raft.Server;

public sealed record RaftServerOptions
{
    /// <summary>This server's id (non-zero, unique in the cluster).</summary>
    public required ulong Id { get; init; }

    /// <summary>host:port where peers reach this server's Raft service.</summary>
    public required string Address { get; init; }

    /// <summary>Holds <c>wal/</c> (the log) and <c>snap/</c> (snapshots; <c>snap/incoming/</c> for transfers in progress).</summary>
    public required string DataDirectory { get; init; }

    /// <summary>
    /// The founding voters (id → address) when this server helps start a new cluster; used only
    /// when the data directory is empty. Leave empty for a server that will be added later.
    /// </summary>
    public IReadOnlyDictionary<ulong, string> Bootstrap { get; init; } = new Dictionary<ulong, string>();

    /// <summary>One Raft tick. Elections time out after 10–20 ticks, heartbeats every tick.</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    public int ElectionTicks { get; init; } = 10;

    /// <summary>fsync the log before anything depends on it. Off only for tests and dev mode.</summary>
    public bool Fsync { get; init; } = true;

    /// <summary>Take a snapshot and compact the log after this many applied entries.</summary>
    public ulong SnapshotThreshold { get; init; } = 16_384;

    /// <summary>Proposals gathered into one append (and one fsync) per loop turn.</summary>
    public int MaxBatch { get; init; } = 1024;

    /// <summary>A non-voter is promoted once it matches the leader's commit index at least this closely.</summary>
    public ulong PromotionLag { get; init; } = 64;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Seeds the election jitter; random per start unless set (simulations set it).</summary>
    public int? Seed { get; init; }

    public Transport.RaftTransportOptions Transport { get; init; } = new();
}
