namespace Cluster.Raft.Server;

/// <summary>This server does not lead: retry at <see cref="LeaderAddress"/> (empty when no leader is known).</summary>
public sealed class NotLeaderException(ulong leader, string leaderAddress)
    : Exception(leader == 0 ? "no leader is known; retry shortly" : $"not the leader; the leader is {leader} at {leaderAddress}")
{
    public ulong Leader { get; } = leader;

    public string LeaderAddress { get; } = leaderAddress;
}
