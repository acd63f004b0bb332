using Legacy.Actors.Runtime;

namespace Legacy.Actors;

/// <summary>
/// A reference backed by a callback instead of a mailbox: no ordering beyond what the caller
/// gives, no turn. It can watch actors; <see cref="Terminated"/> arrives through the callback.
/// </summary>
public sealed class FunctionRef : ActorRef
{
    private readonly ActorSystem _system;
    private readonly string _name;
    private readonly int _uid;
    private readonly Action<object, ActorRef?> _onMessage;
    private ActorPath? _path;

    internal FunctionRef(ActorSystem system, string name, int uid, Action<object, ActorRef?> onMessage)
    {
        ActorPath.ValidateElement(name);
        ArgumentNullException.ThrowIfNull(onMessage);
        _system = system;
        _name = name;
        _uid = uid;
        _onMessage = onMessage;
    }

    public override ActorPath Path => _path ??= ActorPath.Root(_system.Address).Child("temp").Child(_name);

    public override int Uid => _uid;

    internal override ActorSystem Home => _system;

    public override void Tell(object message, ActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        _onMessage(message, sender);
    }

    /// <summary>Asks for <see cref="Terminated"/> when <paramref name="subject"/> stops.</summary>
    public void Watch(ActorRef subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        subject.SendSystem(new Runtime.Watch(subject, this));
    }

    public void Unwatch(ActorRef subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        subject.SendSystem(new Runtime.Unwatch(subject, this));
    }

    internal override void SendSystem(SystemMessage message)
    {
        if (message is DeathWatchNotification notification)
        {
            _onMessage(new Terminated(notification.Actor, notification.ExistenceConfirmed, notification.AddressTerminated), notification.Actor);
        }
    }
}
