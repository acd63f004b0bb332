using System.Collections.Immutable;
using Cluster.Server.Leader;
using Cluster.Contracts;
using Cluster.Server.Rpc;
using Grpc.Core;
using Cluster.Raft.Core;
using Cluster.Contracts.State;
using Microsoft.Extensions.Logging;

namespace Cluster.Server.Nodes;

/// <summary>
/// The leader's duties, run by whichever server leads: keep Raft's membership in step with gossip
/// (add live servers; remove those that left, and failed ones after a grace period if quorum
/// stays), keep the catalog's nodes and serfHealth checks in step with gossip, expire session
/// TTLs, and reap old KV tombstones.
/// </summary>
public sealed partial class ServerNode
{
    public const string SerfCheckId = CatalogReconcile.SerfCheckId;

    private readonly Dictionary<string, DateTimeOffset> _sessionDeadlines = new(StringComparer.Ordinal);
    private ImmutableDictionary<ulong, DateTimeOffset> _failedSince = ImmutableDictionary<ulong, DateTimeOffset>.Empty;
    private readonly Queue<(DateTimeOffset At, ulong Index)> _indexHistory = new();

    private async Task LeaderLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            var raft = await RaftStarted.WaitAsync(cancellationToken);
            var leading = false;
            while (!cancellationToken.IsCancellationRequested)
            {
                var gossipChanged = Lan.Changed;
                // Sessions are the only state the leader must react to at once (their TTL timers);
                // the catalog follows gossip, and the periodic pass repairs anything else.
                var sessionsChanged = Store.Current.Sessions.Changed;
                var stats = raft.Stats;
                var isLeader = stats?.Role == RaftRole.Leader;
                if (isLeader && !leading)
                {
                    ResetSessionTimers();
                }

                leading = isLeader;
                if (isLeader)
                {
                    try
                    {
                        await ReconcileRaftAsync(cancellationToken);
                        await ReconcileCatalogAsync(cancellationToken);
                        await ExpireSessionsAsync(cancellationToken);
                        await ReapTombstonesAsync(cancellationToken);
                        await MaintainCaAsync(cancellationToken);
                    }
                    catch (Exception e) when (e is NoLeaderException or Cluster.Raft.Server.NotLeaderException or RpcException or InvalidOperationException)
                    {
                        LogReconcileFailed(_logger, e.Message);
                    }
                }

                var wake = NextSessionDeadline() is { } due ? due - Options.Time.GetUtcNow() : Options.ReconcileInterval;
                wake = wake < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10) : wake > Options.ReconcileInterval ? Options.ReconcileInterval : wake;
                await Task.WhenAny(gossipChanged, isLeader ? sessionsChanged : raft.Changed, Task.Delay(wake, Options.Time, cancellationToken));
                if (!isLeader)
                {
                    // A follower wakes on Raft's turns only to see whether it leads now; no need to spin per turn.
                    await Task.WhenAny(gossipChanged, Task.Delay(TimeSpan.FromMilliseconds(200), Options.Time, cancellationToken));
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One Raft membership change per pass, as <see cref="RaftReconcile"/> decides it.</summary>
    private async Task ReconcileRaftAsync(CancellationToken cancellationToken)
    {
        var raft = Raft!;
        var stats = await raft.StatsNowAsync(cancellationToken);
        var servers = ServerMembers().Select(s => new ServerView(s.Name, s.RaftId, s.RpcAddress, s.Status)).ToList();
        var (change, failedSince) = RaftReconcile.Next(stats.Configuration, servers, RaftId, _failedSince, Options.Time.GetUtcNow(), Options.DeadServerGrace);
        _failedSince = failedSince;
        switch (change)
        {
            case AddVoter add:
                LogAddingServer(_logger, add.Name);
                await raft.AddServerAsync(add.Id, add.Address, voter: true, cancellationToken);
                break;
            case RemoveServer remove:
                LogRemovingServer(_logger, remove.Id, remove.Reason);
                await raft.RemoveServerAsync(remove.Id, cancellationToken);
                break;
        }
    }

    /// <summary>Applies the commands <see cref="CatalogReconcile"/> plans from gossip and the catalog.</summary>
    private async Task ReconcileCatalogAsync(CancellationToken cancellationToken)
    {
        var commands = CatalogReconcile.Plan(Store.Current, Lan.Members, Options.Datacenter, Options.Time.GetUtcNow() - _lanStarted, Options.GossipConvergence);
        foreach (var command in commands)
        {
            await ApplyAsync(command, cancellationToken);
        }
    }

    private void ResetSessionTimers()
    {
        lock (_sessionDeadlines)
        {
            _sessionDeadlines.Clear();
            var now = Options.Time.GetUtcNow();
            foreach (var session in Store.Current.SessionList().Result)
            {
                if (SessionTtl.Parse(session.Ttl) is { } ttl)
                {
                    // A new leader does not know when each session was last renewed: give every one a full grace period (Consul's ttl × 2).
                    _sessionDeadlines[session.Id] = now + (ttl * 2);
                }
            }
        }
    }

    /// <summary>Called when a session with a TTL is created or renewed on the leader.</summary>
    internal void TouchSession(string id, string ttlText)
    {
        if (SessionTtl.Parse(ttlText) is not { } ttl)
        {
            return;
        }

        lock (_sessionDeadlines)
        {
            _sessionDeadlines[id] = Options.Time.GetUtcNow() + (ttl * 2);
        }
    }

    /// <summary>Renews a session's TTL on the leader (forwarded there from any server). False when the session does not exist.</summary>
    public async Task<bool> RenewSessionAsync(string id, CancellationToken cancellationToken = default)
    {
        var raft = await RaftStarted.WaitAsync(cancellationToken);
        var stats = raft.Stats;
        if (stats?.Role == RaftRole.Leader)
        {
            await ReadBarrierAsync(Consistency.Default, cancellationToken);
            if (Store.Current.SessionGet(id).Result is not { } session)
            {
                return false;
            }

            TouchSession(id, session.Ttl);
            return true;
        }

        if (stats is null || stats.LeaderAddress.Length == 0)
        {
            throw new NoLeaderException("No cluster leader");
        }

        using var deadline = new RpcDeadline(TimeSpan.FromSeconds(5), Options.Time, cancellationToken);
        var reply = await Channel(stats.LeaderAddress).RenewAsync(new RenewRequest { Id = id }, cancellationToken: deadline.Token);
        return reply.Found;
    }

    internal async Task<RenewReply> ServeRenewAsync(RenewRequest request, ServerCallContext context)
    {
        if (!request.Forward && Raft?.Stats?.Role != RaftRole.Leader)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, "not the leader"));
        }

        return new RenewReply { Found = await Served(RenewSessionAsync(request.Id, context.CancellationToken)) };
    }

    private DateTimeOffset? NextSessionDeadline()
    {
        lock (_sessionDeadlines)
        {
            return _sessionDeadlines.Count == 0 ? null : _sessionDeadlines.Values.Min();
        }
    }

    private async Task ExpireSessionsAsync(CancellationToken cancellationToken)
    {
        List<string> expired;
        var now = Options.Time.GetUtcNow();
        var sessions = Store.Current.Sessions;
        lock (_sessionDeadlines)
        {
            foreach (var (id, _) in sessions.PrefixWatch("").Entries)
            {
                if (!_sessionDeadlines.ContainsKey(id) && sessions.TryGet(id, out var s) && SessionTtl.Parse(s.Ttl) is { } ttl)
                {
                    _sessionDeadlines[id] = now + (ttl * 2); // created through another leader's term
                }
            }

            expired = [.. _sessionDeadlines.Where(d => d.Value <= now || !sessions.TryGet(d.Key, out _)).Select(d => d.Key)];
            foreach (var id in expired)
            {
                _sessionDeadlines.Remove(id);
            }
        }

        foreach (var id in expired.Where(id => sessions.TryGet(id, out _)))
        {
            await ApplyAsync(new Command { Session = new SessionOp { Verb = SessionOp.Types.Verb.Destroy, Session = new Session { Id = id } } }, cancellationToken);
        }
    }

    private async Task ReapTombstonesAsync(CancellationToken cancellationToken)
    {
        var now = Options.Time.GetUtcNow();
        var index = Store.Current.Index;
        if (_indexHistory.Count == 0 || now - _indexHistory.Last().At >= TimeSpan.FromSeconds(30))
        {
            _indexHistory.Enqueue((now, index));
        }

        ulong reapTo = 0;
        while (_indexHistory.Count > 0 && now - _indexHistory.Peek().At >= Options.TombstoneTtl)
        {
            reapTo = _indexHistory.Dequeue().Index;
        }

        if (reapTo > 0 && Store.Current.Tombstones.Count > 0)
        {
            await ApplyAsync(new Command { Reap = new ReapTombstones { UpTo = reapTo } }, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "leader reconcile failed: {Reason}")]
    private static partial void LogReconcileFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "adding server {Name} to Raft")]
    private static partial void LogAddingServer(ILogger logger, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "removing server {Id} from Raft ({Why})")]
    private static partial void LogRemovingServer(ILogger logger, ulong id, string why);
}

/// <summary>Session TTLs as Consul writes them ("10s" to "86400s").</summary>
public static class SessionTtl
{
    public static readonly TimeSpan Min = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan Max = TimeSpan.FromSeconds(86400);

    public static TimeSpan? Parse(string text) =>
        string.IsNullOrEmpty(text) ? null : GoDuration.TryParse(text, out var ttl) && ttl > TimeSpan.Zero ? ttl : null;
}
