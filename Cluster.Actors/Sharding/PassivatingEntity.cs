using Akka.Actor;
using Akka.Cluster.Sharding;

namespace Cluster.Actors.Sharding;

/// <summary>
/// Base for sharded entities: one that has had no message for <see cref="IdleAfter"/> asks its
/// shard to passivate it — unless <see cref="HoldsLiveStreams"/>, because an entity serving a
/// proxy's open xDS stream is idle only in the sense that nothing changed, and stopping it would
/// cut the stream. (Akka's built-in idle passivation cannot tell the two apart, so it is off.)
/// </summary>
public abstract class PassivatingEntity : UntypedActor
{
    protected PassivatingEntity(TimeSpan idleAfter)
    {
        IdleAfter = idleAfter;
    }

    public TimeSpan IdleAfter { get; }

    /// <summary>Whether the entity serves something live that passivation would cut.</summary>
    protected virtual bool HoldsLiveStreams => false;

    protected override void PreStart()
    {
        base.PreStart();
        Context.SetReceiveTimeout(IdleAfter);
    }

    protected sealed override void OnReceive(object message)
    {
        switch (message)
        {
            case ReceiveTimeout when !HoldsLiveStreams:
                Context.Parent.Tell(new Passivate(EntityStop.Instance));
                break;
            case ReceiveTimeout:
                break;
            case EntityStop:
                Context.Stop(Self);
                break;
            default:
                Handle(message);
                break;
        }
    }

    protected abstract void Handle(object message);
}
