using System.Globalization;
using Cluster.Contracts.State;
using Cluster.Raft.Core;
using Cluster.Raft.Server;
using Grpc.Core;

namespace Cluster.Server.Nodes;

/// <summary>Raft's membership as operators see it (/v1/status, /v1/operator/raft), for this server's agent and, over RPC, client agents.</summary>
public sealed partial class ServerNode
{
    private static readonly TimeSpan TransferTimeout = TimeSpan.FromSeconds(10);

    public Task<string> LeaderAddressAsync(CancellationToken cancellationToken = default)
    {
        var stats = Raft?.Stats;
        return Task.FromResult(stats is null || stats.Leader == 0 ? "" : stats.LeaderAddress);
    }

    public async Task<RaftConfigurationReply> RaftConfigurationAsync(Consistency consistency, CancellationToken cancellationToken = default)
    {
        var raft = Raft ?? throw new NoLeaderException("No cluster leader");
        if (consistency != Consistency.Stale)
        {
            await ReadBarrierAsync(Consistency.Default, cancellationToken).ConfigureAwait(false);
        }

        var stats = await raft.StatsNowAsync(cancellationToken).ConfigureAwait(false);
        var conf = stats.Configuration;
        var members = ServerMembers();
        var reply = new RaftConfigurationReply { Index = stats.Committed };
        foreach (var id in conf.Voters.Concat(conf.NonVoters).Order())
        {
            var member = members.FirstOrDefault(m => m.RaftId == id);
            var gossip = member is null ? null : Lan.Members.FirstOrDefault(m => m.Name == member.Name);
            reply.Servers.Add(new RaftPeer
            {
                Id = gossip?.Tags.GetValueOrDefault("id") ?? id.ToString(CultureInfo.InvariantCulture),
                Node = member?.Name ?? "(unknown)",
                Address = conf.Addresses.GetValueOrDefault(id, ""),
                Leader = id == stats.Leader,
                Voter = conf.IsVoter(id),
            });
        }

        return reply;
    }

    public async Task RemovePeerAsync(PeerRequest peer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var raft = Raft ?? throw new NoLeaderException("No cluster leader");
        var id = await ResolvePeerAsync(raft, peer, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidRequestException("Must specify either ?id with the server's ID or ?address with IP:port of peer to remove");
        try
        {
            await raft.RemoveServerAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (NotLeaderException e)
        {
            throw new NoLeaderException($"{e.Message} (send this request to the leader)");
        }
    }

    public async Task TransferLeaderAsync(PeerRequest peer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var raft = Raft ?? throw new NoLeaderException("No cluster leader");
        var target = await ResolvePeerAsync(raft, peer, cancellationToken).ConfigureAwait(false);
        if (target is null)
        {
            var stats = await raft.StatsNowAsync(cancellationToken).ConfigureAwait(false);
            target = stats.Configuration.Voters.FirstOrDefault(v => v != stats.Id && stats.Matches.ContainsKey(v));
            if (target == 0)
            {
                throw new NoLeaderException("no other voter to transfer leadership to");
            }
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TransferTimeout);
        try
        {
            await raft.TransferLeadershipAsync(target.Value, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The target did not take over in time (behind on the log, or unreachable): say so, as an answer.
            throw new NoLeaderException($"leadership transfer to {target.Value} did not complete within {TransferTimeout.TotalSeconds:0} s");
        }
    }

    /// <summary>The Raft id a request names (a node UUID, our numeric id, or an address); null when it names none.</summary>
    private static async Task<ulong?> ResolvePeerAsync(RaftServer raft, PeerRequest peer, CancellationToken cancellationToken)
    {
        var conf = (await raft.StatsNowAsync(cancellationToken).ConfigureAwait(false)).Configuration;
        var ids = conf.Voters.Concat(conf.NonVoters).ToList();
        if (peer.Id.Length > 0)
        {
            if (Guid.TryParse(peer.Id, out _) && ids.Contains(RaftIdOf(peer.Id)))
            {
                return RaftIdOf(peer.Id);
            }

            if (ulong.TryParse(peer.Id, NumberStyles.None, CultureInfo.InvariantCulture, out var numeric) && ids.Contains(numeric))
            {
                return numeric;
            }

            throw new InvalidRequestException($"id \"{peer.Id}\" was not found in the Raft configuration");
        }

        if (peer.Address.Length > 0)
        {
            foreach (var candidate in ids)
            {
                if (conf.Addresses.GetValueOrDefault(candidate) == peer.Address)
                {
                    return candidate;
                }
            }

            throw new InvalidRequestException($"address \"{peer.Address}\" was not found in the Raft configuration");
        }

        return null;
    }

    internal async Task<LeaderReply> ServeLeaderAsync(ServerCallContext context) =>
        new() { Address = await LeaderAddressAsync(context.CancellationToken).ConfigureAwait(false) };

    internal Task<RaftConfigurationReply> ServeRaftConfigurationAsync(RaftConfigurationRequest request, ServerCallContext context) =>
        Served(RaftConfigurationAsync(request.Stale ? Consistency.Stale : Consistency.Default, context.CancellationToken));

    internal Task<PeerReply> ServeRemovePeerAsync(PeerRequest request, ServerCallContext context) =>
        Served(Replied(RemovePeerAsync(request, context.CancellationToken)));

    internal Task<PeerReply> ServeTransferLeaderAsync(PeerRequest request, ServerCallContext context) =>
        Served(Replied(TransferLeaderAsync(request, context.CancellationToken)));

    private static async Task<PeerReply> Replied(Task done)
    {
        await done.ConfigureAwait(false);
        return new PeerReply();
    }
}
