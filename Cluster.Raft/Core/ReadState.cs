using Google.Protobuf;

namespace Cluster.Raft.Core;

/// <summary>
/// A linearizable read is safe once this node has applied through <paramref name="Index"/>:
/// at the moment the read was asked, a quorum confirmed the leader and its commit was this.
/// </summary>
public sealed record ReadState(ulong Index, ByteString Context);
