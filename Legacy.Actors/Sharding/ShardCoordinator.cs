using Legacy.Actors.Membership;
using Legacy.Actors.Sharding.Wire;

namespace Legacy.Actors.Sharding;

/// <summary>
/// Decides which region owns each shard. Every node runs one, but only the one on the first
/// member (address order) is active; when that node goes, the next takes over and rebuilds the
/// allocation from what the regions report they host — no state to persist or hand over.
/// A new coordinator allocates nothing until every member's region has registered (or
/// <see cref="ShardingOptions.SettleTimeout"/> passed), so a running shard is not started twice.
/// </summary>
internal sealed class ShardCoordinator(ShardingOptions options, ClusterMembership membership) : Actor
{
    private readonly Dictionary<int, ActorRef> _allocation = [];
    private readonly Dictionary<ActorRef, HashSet<int>> _regions = [];
    private readonly Dictionary<int, List<ActorRef>> _waiting = [];
    private readonly Dictionary<int, Rebalance> _rebalancing = [];
    private IReadOnlyList<Address> _members = [];
    private bool _active;
    private bool _settled;

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(MembersChanged));
        Update(membership.Members);
        Timers.StartPeriodicTimer("rebalance", RebalanceTick.Instance, options.RebalanceInterval);
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    protected override void Receive(object message)
    {
        switch (message)
        {
            case MembersChanged changed:
                Update(changed.Members);
                break;
            case RegisterRegion { Proxy: true } when _active:
                Reply(new RegisterAck());
                break;
            case RegisterRegion register when _active:
                RegisterRegion(Sender, register);
                break;
            case GetShardHome get when _active:
                HomeRequested(get.Shard, Sender);
                break;
            case BeginHandOffAck ack when _active:
                HandOffAcked(ack.Shard, Sender);
                break;
            case ShardStopped stopped when _active:
                ShardStopped(stopped.Shard, Sender);
                break;
            case HandOffTimedOut timedOut:
                AbandonRebalance(timedOut.Shard);
                break;
            case RebalanceTick when _active && _settled:
                StartRebalance();
                break;
            case SettleTimeout when _active:
                Settle();
                break;
            case Terminated terminated:
                RegionGone(terminated.Actor);
                break;
        }
    }

    private void Update(IReadOnlyList<Address> members)
    {
        _members = members;
        var active = members.Count > 0 && members[0] == Context.System.Address;
        if (active && !_active)
        {
            // Taking over: start empty and learn the allocation from the regions.
            _allocation.Clear();
            _regions.Clear();
            _waiting.Clear();
            _rebalancing.Clear();
            _settled = false;
            Timers.StartSingleTimer("settle", SettleTimeout.Instance, options.SettleTimeout);
        }

        else if (active && _settled && members.Any(m => !_regions.Keys.Any(r => r.Path.Address == m)))
        {
            // New members: wait (briefly) for their regions before placing new shards, so the
            // first allocations after a join or a cold start spread over every node.
            _settled = false;
            Timers.StartSingleTimer("settle", SettleTimeout.Instance, options.SettleTimeout);
        }

        _active = active;
        foreach (var region in _regions.Keys.Where(r => !members.Contains(r.Path.Address)).ToList())
        {
            RegionGone(region);
        }

        SettleIfComplete();
    }

    private void RegisterRegion(ActorRef region, RegisterRegion register)
    {
        if (!_regions.TryGetValue(region, out var owned))
        {
            owned = [];
            _regions[region] = owned;
            Context.Watch(region);
        }

        foreach (var shard in register.Shards)
        {
            if (shard < 0 || shard >= options.NumberOfShards)
            {
                continue;
            }

            if (!_allocation.TryGetValue(shard, out var owner))
            {
                _allocation[shard] = region;
                owned.Add(shard);
            }
            else if (!owner.Equals(region))
            {
                // Two regions run the same shard (possible only across a coordinator change): keep one.
                region.Tell(new HandOff { Shard = shard }, Self);
            }
        }

        region.Tell(new RegisterAck(), Self);
        SettleIfComplete();
    }

    private void SettleIfComplete()
    {
        if (_active && !_settled && _members.All(m => _regions.Keys.Any(r => r.Path.Address == m)))
        {
            Settle();
        }
    }

    private void Settle()
    {
        if (_settled)
        {
            return;
        }

        _settled = true;
        Timers.Cancel("settle");
        foreach (var shard in _waiting.Keys.ToList())
        {
            AnswerWaiting(shard);
        }
    }

    private void HomeRequested(int shard, ActorRef requester)
    {
        if (shard < 0 || shard >= options.NumberOfShards)
        {
            return;
        }

        // A shard that has a home is answered at once; only placing a new one waits for the settle.
        var allocated = _allocation.ContainsKey(shard);
        if (_rebalancing.ContainsKey(shard) || (!allocated && (!_settled || LeastLoaded() is null)))
        {
            var waiting = _waiting.GetValueOrDefault(shard) ?? [];
            if (!waiting.Contains(requester))
            {
                waiting.Add(requester);
            }

            _waiting[shard] = waiting;
            return;
        }

        var home = Allocate(shard);
        requester.Tell(new ShardHome { Shard = shard, Region = RefData.To(Context.System, home) }, Self);
    }

    private ActorRef Allocate(int shard)
    {
        if (_allocation.TryGetValue(shard, out var home))
        {
            return home;
        }

        home = LeastLoaded()!;
        _allocation[shard] = home;
        _regions[home].Add(shard);

        // Tell the owner first, so it starts the shard even if only other nodes have traffic for it.
        home.Tell(new ShardHome { Shard = shard, Region = RefData.To(Context.System, home) }, Self);
        return home;
    }

    /// <summary>The region with the fewest shards; ties go to the first address, so every run allocates alike.</summary>
    private ActorRef? LeastLoaded() =>
        _regions
            .Where(r => _members.Contains(r.Key.Path.Address))
            .OrderBy(r => r.Value.Count)
            .ThenBy(r => r.Key.Path.ToString(), StringComparer.Ordinal)
            .Select(r => r.Key)
            .FirstOrDefault();

    private void AnswerWaiting(int shard)
    {
        if (_rebalancing.ContainsKey(shard) || (!_allocation.ContainsKey(shard) && (!_settled || LeastLoaded() is null)) || !_waiting.Remove(shard, out var waiting))
        {
            return;
        }

        foreach (var requester in waiting)
        {
            HomeRequested(shard, requester);
        }
    }

    private void RegionGone(ActorRef region)
    {
        if (!_regions.Remove(region, out var owned))
        {
            return;
        }

        // Its shards are free; their entities start on another region at their next message.
        foreach (var shard in owned)
        {
            _allocation.Remove(shard);
        }

        foreach (var (shard, rebalance) in _rebalancing.ToList())
        {
            rebalance.AwaitingAcks.Remove(region);
            if (rebalance.Owner.Equals(region))
            {
                FinishRebalance(shard);
            }
            else if (rebalance.AwaitingAcks.Count == 0)
            {
                rebalance.Owner.Tell(new HandOff { Shard = shard }, Self);
            }
        }

        foreach (var shard in _waiting.Keys.ToList())
        {
            AnswerWaiting(shard);
        }
    }

    /// <summary>Moves shards from the most to the least loaded region while they differ by more than one.</summary>
    private void StartRebalance()
    {
        var counts = _regions
            .Where(r => _members.Contains(r.Key.Path.Address))
            .ToDictionary(r => r.Key, r => r.Value.Count(s => !_rebalancing.ContainsKey(s)));
        if (counts.Count < 2)
        {
            return;
        }

        var least = counts.Values.Min();
        var budget = options.MaxSimultaneousRebalance - _rebalancing.Count;
        while (budget > 0)
        {
            var (most, count) = counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key.Path.ToString(), StringComparer.Ordinal).First();
            if (count - least <= 1)
            {
                break;
            }

            var shard = _regions[most].Where(s => !_rebalancing.ContainsKey(s)).Order().First();
            BeginRebalance(shard, most);
            counts[most] = count - 1;
            least++;
            budget--;
        }
    }

    private void BeginRebalance(int shard, ActorRef owner)
    {
        var rebalance = new Rebalance(owner, [.. _regions.Keys]);
        _rebalancing[shard] = rebalance;
        foreach (var region in rebalance.AwaitingAcks)
        {
            region.Tell(new BeginHandOff { Shard = shard }, Self);
        }

        Timers.StartSingleTimer(("handoff", shard), new HandOffTimedOut(shard), options.HandOffTimeout);
    }

    private void HandOffAcked(int shard, ActorRef region)
    {
        if (_rebalancing.TryGetValue(shard, out var rebalance) && rebalance.AwaitingAcks.Remove(region) && rebalance.AwaitingAcks.Count == 0)
        {
            rebalance.Owner.Tell(new HandOff { Shard = shard }, Self);
        }
    }

    private void ShardStopped(int shard, ActorRef region)
    {
        // Only the owner's report frees the shard: a duplicate stopped elsewhere changes nothing.
        if (!_allocation.TryGetValue(shard, out var owner) || !owner.Equals(region))
        {
            return;
        }

        _allocation.Remove(shard);
        if (_regions.TryGetValue(owner, out var owned))
        {
            owned.Remove(shard);
        }

        FinishRebalance(shard);
    }

    private void FinishRebalance(int shard)
    {
        _rebalancing.Remove(shard);
        Timers.Cancel(("handoff", shard));
        AnswerWaiting(shard);
    }

    private void AbandonRebalance(int shard)
    {
        // The shard stays where it was; regions that cleared their cache will ask again.
        _rebalancing.Remove(shard);
        AnswerWaiting(shard);
    }

    private sealed record Rebalance(ActorRef Owner, HashSet<ActorRef> AwaitingAcks);
}
