namespace Cluster.Raft.Storage;

public sealed record WalOptions
{
    /// <summary>A segment is closed and a new one started once it grows past this.</summary>
    public long SegmentBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Off only for tests and benchmarks that measure everything but the disk.</summary>
    public bool Fsync { get; init; } = true;
}
