using System.Collections.Immutable;
using Cluster.Gossip.Wire;
using Cluster.Raft.Core;
using Cluster.Server.Leader;

namespace Cluster.Tests.Leader;

/// <summary>The leader's Raft membership reconcile: one change per pass, a grace for failures, never below quorum.</summary>
public sealed class RaftReconcileTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(30);

    private static ServerView S(ulong id, MemberStatus status = MemberStatus.Alive) => new($"s{id}", id, $"10.0.0.{id}:8300", status);

    private static (RaftChange? Change, ImmutableDictionary<ulong, DateTimeOffset> Failed) Next(ulong[] voters, ServerView[] servers, ImmutableDictionary<ulong, DateTimeOffset>? failed = null, DateTimeOffset? now = null) =>
        RaftReconcile.Next(Membership.Voters(voters), servers, self: 1, failed ?? ImmutableDictionary<ulong, DateTimeOffset>.Empty, now ?? Now, Grace);

    [Fact]
    public void A_live_server_that_is_not_a_voter_is_added()
    {
        var (change, _) = Next([1, 2], [S(1), S(2), S(3)]);
        Assert.Equal(new AddVoter(3, "10.0.0.3:8300", "s3"), change);
    }

    [Fact]
    public void A_configuration_matching_gossip_needs_no_change() =>
        Assert.Null(Next([1, 2, 3], [S(1), S(2), S(3)]).Change);

    [Fact]
    public void A_server_that_left_is_removed_at_once() =>
        Assert.Equal(new RemoveServer(3, "left"), Next([1, 2, 3, 4, 5], [S(1), S(2), S(3, MemberStatus.Left), S(4), S(5)]).Change);

    [Fact]
    public void A_failed_server_is_removed_only_after_the_grace()
    {
        ServerView[] servers = [S(1), S(2), S(3), S(4), S(5, MemberStatus.Dead)];
        var (first, failed) = Next([1, 2, 3, 4, 5], servers);
        Assert.Null(first);
        Assert.Equal(Now, failed[5]);

        Assert.Null(Next([1, 2, 3, 4, 5], servers, failed, Now + Grace - TimeSpan.FromSeconds(1)).Change);
        var (removed, after) = Next([1, 2, 3, 4, 5], servers, failed, Now + Grace);
        Assert.Equal(new RemoveServer(5, "failed"), removed);
        Assert.False(after.ContainsKey(5));
    }

    [Fact]
    public void A_server_that_comes_back_within_the_grace_starts_it_again_next_time()
    {
        var failed = ImmutableDictionary<ulong, DateTimeOffset>.Empty.Add(3, Now - TimeSpan.FromMinutes(5));
        var (change, after) = Next([1, 2, 3], [S(1), S(2), S(3)], failed);
        Assert.Null(change);
        Assert.Empty(after);
    }

    [Fact]
    public void A_removal_that_would_leave_no_healthy_majority_waits()
    {
        // Three voters, two failed: removing one would leave one healthy of two, not a majority.
        var failed = ImmutableDictionary<ulong, DateTimeOffset>.Empty.Add(2, Now - TimeSpan.FromHours(1)).Add(3, Now - TimeSpan.FromHours(1));
        Assert.Null(Next([1, 2, 3], [S(1), S(2, MemberStatus.Dead), S(3, MemberStatus.Dead)], failed).Change);

        // Five voters, one failed: four healthy remain of four.
        var one = ImmutableDictionary<ulong, DateTimeOffset>.Empty.Add(5, Now - TimeSpan.FromHours(1));
        Assert.Equal(new RemoveServer(5, "failed"), Next([1, 2, 3, 4, 5], [S(1), S(2), S(3), S(4), S(5, MemberStatus.Dead)], one).Change);
    }

    [Fact]
    public void A_voter_gossip_has_never_heard_of_counts_as_failed_and_the_leader_never_removes_itself()
    {
        var (first, failed) = Next([1, 2, 3, 4], [S(2), S(3), S(4)]);
        Assert.Null(first); // 1 is this leader: never judged; 2..4 alive
        var (change, _) = Next([1, 2, 3, 4, 9], [S(2), S(3), S(4)], failed.Add(9, Now - TimeSpan.FromHours(1)));
        Assert.Equal(new RemoveServer(9, "failed"), change);
    }
}
