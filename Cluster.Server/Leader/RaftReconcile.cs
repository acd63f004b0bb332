using System.Collections.Immutable;
using Cluster.Gossip.Wire;
using Cluster.Raft.Core;
using Cluster.Raft.Wire;

namespace Cluster.Server.Leader;

/// <summary>A server as gossip shows it: its Raft id and address, and whether it is alive, failed or left.</summary>
public sealed record ServerView(string Name, ulong RaftId, string RpcAddress, MemberStatus Status);

/// <summary>One change to Raft's membership.</summary>
public abstract record RaftChange;

/// <summary>A live server not yet a voter joins as one.</summary>
public sealed record AddVoter(ulong Id, string Address, string Name) : RaftChange;

/// <summary>A server that left (at once) or failed (after the grace) goes.</summary>
public sealed record RemoveServer(ulong Id, string Reason) : RaftChange;

/// <summary>
/// The leader's Raft membership reconcile as a pure function (Consul's leader reconcile of serf
/// members into Raft): at most one change per pass, since each must commit before the next is
/// judged. A failed server is removed only after <c>grace</c> of being seen failed, and never if
/// the healthy voters left would not be a majority of the smaller configuration.
/// </summary>
public static class RaftReconcile
{
    public static (RaftChange? Change, ImmutableDictionary<ulong, DateTimeOffset> FailedSince) Next(
        ConfState configuration,
        IReadOnlyList<ServerView> servers,
        ulong self,
        ImmutableDictionary<ulong, DateTimeOffset> failedSince,
        DateTimeOffset now,
        TimeSpan grace)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentNullException.ThrowIfNull(failedSince);
        var failed = failedSince;
        foreach (var server in servers.Where(s => s.Status == MemberStatus.Alive))
        {
            failed = failed.Remove(server.RaftId);
            if (!configuration.IsVoter(server.RaftId))
            {
                return (new AddVoter(server.RaftId, server.RpcAddress, server.Name), failed);
            }
        }

        foreach (var id in configuration.Voters.Concat(configuration.NonVoters).Where(id => id != self))
        {
            var gossip = servers.FirstOrDefault(s => s.RaftId == id);
            var left = gossip?.Status == MemberStatus.Left;
            var dead = gossip is null || gossip.Status == MemberStatus.Dead;
            if (!left && !dead)
            {
                continue;
            }

            if (dead)
            {
                if (!failed.TryGetValue(id, out var since))
                {
                    failed = failed.SetItem(id, now);
                    continue;
                }

                if (now - since < grace)
                {
                    continue;
                }
            }

            var votersAfter = configuration.Voters.Count(v => v != id);
            var healthyAfter = configuration.Voters.Count(v => v != id && (v == self || servers.Any(s => s.RaftId == v && s.Status == MemberStatus.Alive)));
            if (configuration.IsVoter(id) && healthyAfter < (votersAfter / 2) + 1)
            {
                continue;
            }

            return (new RemoveServer(id, left ? "left" : "failed"), failed.Remove(id));
        }

        return (null, failed);
    }
}
