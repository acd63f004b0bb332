namespace Cluster.Raft.Core;

public enum RaftRole
{
    Follower,
    PreCandidate,
    Candidate,
    Leader,
}
