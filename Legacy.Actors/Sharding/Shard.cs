namespace Legacy.Actors.Sharding;

/// <summary>
/// One shard on its owning node: starts entities on their first message, passivates idle
/// ones, and on hand-off stops them all before stopping itself. Messages for an entity that is
/// stopping are held and delivered to its next incarnation, so passivation loses nothing and no
/// incarnation receives a message twice.
/// </summary>
internal sealed class Shard(int id, ShardingOptions options) : Actor
{
    private readonly Dictionary<string, Entity> _entities = new(StringComparer.Ordinal);
    private readonly Dictionary<ActorRef, string> _idsByRef = [];
    private bool _stopping;

    protected override void PreStart()
    {
        if (options.PassivateIdleAfter is { } idle)
        {
            var every = TimeSpan.FromTicks(Math.Max(idle.Ticks / 2, TimeSpan.FromMilliseconds(100).Ticks));
            Timers.StartPeriodicTimer("passivation", PassivationTick.Instance, every);
        }
    }

    protected override void Receive(object message)
    {
        switch (message)
        {
            case EntityMessage delivery:
                Deliver(delivery.EntityId, delivery.Message, Sender);
                break;
            case Passivate passivate when _idsByRef.TryGetValue(Sender, out var passivating):
                BeginStop(_entities[passivating], passivate.StopMessage);
                break;
            case PassivationTick:
                PassivateIdle();
                break;
            case Terminated terminated when _idsByRef.Remove(terminated.Actor, out var entityId):
                EntityStopped(entityId);
                break;
            case StopShard:
                StopAll();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Deliver(string entityId, object message, ActorRef sender)
    {
        if (!_entities.TryGetValue(entityId, out var entity))
        {
            entity = Start(entityId);
        }

        if (entity.Stopping)
        {
            (entity.Held ??= []).Add((message, sender));
            return;
        }

        entity.LastActive = Context.System.Time.GetTimestamp();
        entity.Ref.Tell(message, sender);
    }

    private Entity Start(string entityId)
    {
        var child = Context.ActorOf(options.EntityProps(entityId), ShardIds.ActorName(entityId));
        Context.Watch(child);
        var entity = new Entity(child) { LastActive = Context.System.Time.GetTimestamp() };
        _entities[entityId] = entity;
        _idsByRef[child] = entityId;
        return entity;
    }

    private void BeginStop(Entity entity, object stopMessage)
    {
        if (entity.Stopping)
        {
            return;
        }

        entity.Stopping = true;
        entity.Ref.Tell(stopMessage, Self);
    }

    private void PassivateIdle()
    {
        var idle = options.PassivateIdleAfter!.Value;
        var time = Context.System.Time;
        foreach (var entity in _entities.Values)
        {
            if (!entity.Stopping && time.GetElapsedTime(entity.LastActive) >= idle)
            {
                BeginStop(entity, options.StopMessage);
            }
        }
    }

    private void EntityStopped(string entityId)
    {
        _entities.Remove(entityId, out var entity);
        if (entity?.Held is not { Count: > 0 } held)
        {
            if (_stopping && _entities.Count == 0)
            {
                Context.Stop(Self);
            }

            return;
        }

        if (_stopping)
        {
            // The region holds everything newer; hand these back first so order is kept.
            Context.Parent.Tell(new ReturnedBuffer(id, [.. held.Select(h => new Held(entityId, h.Message, h.Sender))]));
            if (_entities.Count == 0)
            {
                Context.Stop(Self);
            }

            return;
        }

        // Messages arrived while it stopped: they go to the next incarnation, in order.
        Start(entityId);
        foreach (var (message, sender) in held)
        {
            Deliver(entityId, message, sender);
        }
    }

    private void StopAll()
    {
        _stopping = true;
        if (_entities.Count == 0)
        {
            Context.Stop(Self);
            return;
        }

        foreach (var entity in _entities.Values)
        {
            BeginStop(entity, options.StopMessage);
        }
    }

    private sealed class Entity(ActorRef actor)
    {
        public ActorRef Ref { get; } = actor;

        public long LastActive { get; set; }

        public bool Stopping { get; set; }

        public List<(object Message, ActorRef Sender)>? Held { get; set; }
    }
}
