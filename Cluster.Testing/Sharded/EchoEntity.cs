using Akka.Actor;
using Cluster.Actors.Sharding;

namespace Cluster.Testing.Sharded;

/// <summary>A sharded entity that answers every <see cref="Echo"/> with where it runs and how many it has seen.</summary>
public sealed class EchoEntity(string entityId, TimeSpan idleAfter) : PassivatingEntity(idleAfter)
{
    public const string TypeName = "echo";

    private int _count;

    public static Props Props(string entityId, TimeSpan idleAfter) => Akka.Actor.Props.Create(() => new EchoEntity(entityId, idleAfter));

    protected override void Handle(object message)
    {
        if (message is Echo echo)
        {
            _count++;
            Sender.Tell(new EchoReply(entityId, Akka.Cluster.Cluster.Get(Context.System).SelfAddress.ToString(), echo.Seq, _count));
        }
    }
}
