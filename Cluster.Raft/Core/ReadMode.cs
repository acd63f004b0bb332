namespace Cluster.Raft.Core;

public enum ReadMode
{
    /// <summary>ReadIndex: a heartbeat round answered by a quorum confirms leadership. Safe under any clock behaviour.</summary>
    Quorum,

    /// <summary>Leader lease: no round trip while the lease holds; assumes bounded clock drift.</summary>
    Lease,
}
