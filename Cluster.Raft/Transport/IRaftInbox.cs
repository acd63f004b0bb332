using Cluster.Raft.Wire;

namespace Cluster.Raft.Transport;

/// <summary>Where the transport hands what arrives: the driver's queue (called from transport threads).</summary>
public interface IRaftInbox
{
    void Deliver(Message message);

    /// <summary>A snapshot transfer to <paramref name="peer"/> finished (installed there) or failed.</summary>
    void SnapshotReported(ulong peer, bool delivered);
}
