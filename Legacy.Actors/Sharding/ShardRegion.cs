using Legacy.Actors.Membership;
using Legacy.Actors.Sharding.Wire;

namespace Legacy.Actors.Sharding;

/// <summary>
/// The entry point for one entity type on one node. A message finds its entity like this:
/// entity id (from the message) → shard (stable hash) → the shard's home region (asked of the
/// coordinator once, then cached) → that region's shard actor → the entity. Messages wait here
/// while a shard's home is unknown or moving. Delivery is at most once, in order per sender
/// while the shard stays put.
/// </summary>
internal sealed class ShardRegion(ShardingOptions options, ClusterMembership membership, bool proxy) : Actor
{
    private readonly Dictionary<int, ActorRef> _homes = [];
    private readonly Dictionary<int, ActorRef> _shards = [];
    private readonly Dictionary<ActorRef, int> _shardsByRef = [];
    private readonly HashSet<int> _stopping = [];
    private readonly Dictionary<int, List<Held>> _buffers = [];
    private readonly HashSet<ActorRef> _watchedRegions = [];
    private IReadOnlyList<Address> _members = [];
    private ActorRef? _coordinator;
    private bool _registered;
    private int _buffered;

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(MembersChanged));
        _members = membership.Members;
        FollowCoordinator();
        Timers.StartPeriodicTimer("retry", RetryTick.Instance, options.RetryInterval);
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    protected override void Receive(object message)
    {
        switch (message)
        {
            case MembersChanged changed:
                _members = changed.Members;
                FollowCoordinator();
                break;
            case RetryTick:
                Retry();
                break;
            case RegisterAck when _coordinator is not null && Sender.Path.Equals(_coordinator.Path):
                _registered = true;
                RequestBufferedHomes();
                break;
            case ShardHome home:
                HomeKnown(home.Shard, RefData.From(Context.System, home.Region));
                break;
            case BeginHandOff begin:
                _homes.Remove(begin.Shard);
                Reply(new BeginHandOffAck { Shard = begin.Shard });
                break;
            case HandOff handOff:
                HandOffShard(handOff.Shard);
                break;
            case ReturnedBuffer returned:
                Requeue(returned);
                break;
            case Terminated terminated:
                OnTerminated(terminated.Actor);
                break;
            case EntityMessage delivery:
                Route(delivery.EntityId, delivery.Message, Sender);
                break;
            default:
                if (options.EntityIdOf(message) is { } entityId)
                {
                    Route(entityId, message, Sender);
                }
                else
                {
                    Unhandled(message);
                }

                break;
        }
    }

    private void Route(string entityId, object message, ActorRef? sender)
    {
        var shard = ShardIds.ShardOf(entityId, options.NumberOfShards);
        if (_shards.TryGetValue(shard, out var local) && !_stopping.Contains(shard))
        {
            local.Tell(new EntityMessage(entityId, message), sender);
        }
        else if (!_stopping.Contains(shard) && _homes.TryGetValue(shard, out var region) && !region.Equals(Self) && membership.IsMember(region.Path.Address))
        {
            region.Tell(message, sender);
        }
        else
        {
            // Includes a home on a node membership has just removed: the removal is synchronous,
            // so nothing sent after it is routed to the dead node, even before we hear of it.
            if (_homes.TryGetValue(shard, out var stale) && !stale.Equals(Self))
            {
                _homes.Remove(shard);
            }

            Hold(shard, new Held(entityId, message, sender));
        }
    }

    private void Hold(int shard, Held held)
    {
        if (_buffered >= options.BufferCapacity)
        {
            Context.System.DeadLetters.Tell(new DeadLetter(held.Message, held.Sender, Self, $"sharding buffer of {options.TypeName} is full"), held.Sender);
            return;
        }

        if (!_buffers.TryGetValue(shard, out var buffer))
        {
            buffer = [];
            _buffers[shard] = buffer;
            if (!_stopping.Contains(shard))
            {
                RequestHome(shard);
            }
        }

        buffer.Add(held);
        _buffered++;
    }

    private void HomeKnown(int shard, ActorRef region)
    {
        if (region.Equals(Self))
        {
            if (!_shards.ContainsKey(shard))
            {
                var child = Context.ActorOf(Props.Create(() => new Shard(shard, options)), "shard-" + shard);
                Context.Watch(child);
                _shards[shard] = child;
                _shardsByRef[child] = shard;
            }

            _homes[shard] = Self;
        }
        else
        {
            _homes[shard] = region;
            if (_watchedRegions.Add(region))
            {
                Context.Watch(region);
            }
        }

        if (!_stopping.Contains(shard))
        {
            Flush(shard);
        }
    }

    private void Flush(int shard)
    {
        if (!_buffers.Remove(shard, out var buffer))
        {
            return;
        }

        _buffered -= buffer.Count;
        foreach (var held in buffer)
        {
            Route(held.EntityId, held.Message, held.Sender);
        }
    }

    private void HandOffShard(int shard)
    {
        _homes.Remove(shard);
        if (_shards.TryGetValue(shard, out var local))
        {
            _stopping.Add(shard);
            local.Tell(StopShard.Instance);
        }
        else
        {
            Reply(new ShardStopped { Shard = shard });
        }
    }

    private void Requeue(ReturnedBuffer returned)
    {
        // Older than anything the region holds for the shard: put them in front.
        var buffer = _buffers.GetValueOrDefault(returned.Shard) ?? [];
        buffer.InsertRange(0, returned.Messages);
        _buffers[returned.Shard] = buffer;
        _buffered += returned.Messages.Count;
    }

    private void OnTerminated(ActorRef actor)
    {
        if (_shardsByRef.Remove(actor, out var shard))
        {
            _shards.Remove(shard);
            if (_stopping.Remove(shard))
            {
                _coordinator?.Tell(new ShardStopped { Shard = shard }, Self);
            }

            _homes.Remove(shard);
            if (_buffers.ContainsKey(shard))
            {
                RequestHome(shard);
            }

            return;
        }

        if (actor.Equals(_coordinator))
        {
            _coordinator = null;
            _registered = false;
            FollowCoordinator();
            return;
        }

        if (_watchedRegions.Remove(actor))
        {
            foreach (var lost in _homes.Where(h => h.Value.Equals(actor)).Select(h => h.Key).ToList())
            {
                _homes.Remove(lost);
            }
        }
    }

    /// <summary>The coordinator runs on the first member in address order; register with it.</summary>
    private void FollowCoordinator()
    {
        if (_members.Count == 0)
        {
            return;
        }

        var path = ActorPath.Root(_members[0]).Child("system").Child(options.CoordinatorName);
        var coordinator = Context.System.Resolve(path);
        if (coordinator.Equals(_coordinator))
        {
            return;
        }

        if (_coordinator is not null)
        {
            Context.Unwatch(_coordinator);
        }

        _coordinator = coordinator;
        _registered = false;
        Context.Watch(coordinator);
        Register();
    }

    private void Register()
    {
        var register = new RegisterRegion { Proxy = proxy };
        register.Shards.AddRange(_shards.Keys.Where(s => !_stopping.Contains(s)));
        _coordinator?.Tell(register, Self);
    }

    private void Retry()
    {
        if (_coordinator is null || !_registered)
        {
            FollowCoordinator();
            Register();
            return;
        }

        RequestBufferedHomes();
    }

    private void RequestBufferedHomes()
    {
        foreach (var shard in _buffers.Keys)
        {
            if (!_stopping.Contains(shard))
            {
                RequestHome(shard);
            }
        }
    }

    private void RequestHome(int shard)
    {
        if (_registered)
        {
            _coordinator?.Tell(new GetShardHome { Shard = shard }, Self);
        }
    }
}
