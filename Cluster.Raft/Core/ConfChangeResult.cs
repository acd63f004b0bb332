namespace Cluster.Raft.Core;

public enum ConfChangeResult
{
    Accepted,

    /// <summary>This node does not lead (or is handing leadership over).</summary>
    NotLeader,

    /// <summary>The previous change, or this term's first entry, is not committed yet: try again shortly.</summary>
    Pending,

    /// <summary>The change does not apply to the current configuration (see <c>Membership.Validate</c>).</summary>
    Invalid,
}
