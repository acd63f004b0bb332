using Legacy.Actors.Runtime;

namespace Legacy.Actors.Remoting;

/// <summary>
/// An actor on another node. Made per received envelope without parsing or caching: it keeps
/// the address and the path below it as text, and builds the <see cref="ActorPath"/> only if
/// asked. Messages are serialized on the caller's thread and queued for that node's stream.
/// </summary>
internal sealed class RemoteActorRef(RemoteTransport transport, Address address, string localPath, int uid, ActorPath? path = null) : ActorRef
{
    private ActorPath? _path = path;

    public Address Address { get; } = address;

    /// <summary>The path below the address, e.g. /user/a/b.</summary>
    public string LocalPath { get; } = localPath;

    public override ActorPath Path => _path ??= ActorPath.Parse(Address + LocalPath);

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
