namespace Cluster.Raft.Transport;

public sealed record RaftTransportOptions
{
    /// <summary>Messages queued per peer while its stream is down or slow; beyond this the oldest are dropped (Raft retries).</summary>
    public int QueueLimit { get; init; } = 8192;

    /// <summary>Messages written per batch on a stream.</summary>
    public int MaxBatch { get; init; } = 256;

    public TimeSpan ReconnectMinBackoff { get; init; } = TimeSpan.FromMilliseconds(20);

    public TimeSpan ReconnectMaxBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Snapshot data per chunk.</summary>
    public int SnapshotChunkBytes { get; init; } = 1 << 20;

    /// <summary>A snapshot transfer with no progress for this long is abandoned (and resumed by the next attempt).</summary>
    public TimeSpan SnapshotStallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest snapshot a server accepts.</summary>
    public long MaxSnapshotBytes { get; init; } = 8L << 30;

    /// <summary>Largest message batch a server accepts on a stream.</summary>
    public int MaxReceiveMessageSize { get; init; } = 64 << 20;
}
