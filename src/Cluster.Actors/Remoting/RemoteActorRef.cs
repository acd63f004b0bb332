using Cluster.Actors.Runtime;

namespace Cluster.Actors.Remoting;

/// <summary>An actor on another node. Messages are serialized on the caller's thread and queued for that node's stream.</summary>
internal sealed class RemoteActorRef(RemoteTransport transport, ActorPath path, int uid) : ActorRef
{
    public override ActorPath Path { get; } = path;

    public override int Uid { get; } = uid;

    public override bool IsLocal => false;

    internal override ActorSystem Home => transport.System;

    public override void Tell(object message, ActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        transport.Send(this, message, sender);
    }

    internal override void SendSystem(SystemMessage message) => transport.SendSystem(this, message);
}
