namespace Cluster.Raft.Core;

internal enum AppendResult
{
    Accepted,

    /// <summary>Our log lacks the entry the message builds on: the leader must go back.</summary>
    Mismatch,

    /// <summary>The message would rewrite committed history or is not contiguous: ignored.</summary>
    Refused,
}
