namespace Legacy.Actors.Runtime;

/// <summary>The sink for undeliverable messages; watching it reports it as never having existed.</summary>
internal sealed class DeadLetterRef(ActorSystem system) : ActorRef
{
    private ActorPath? _path;

    public override ActorPath Path => _path ??= ActorPath.Root(system.Address).Child("deadLetters");

    public override int Uid => 0;

    internal override ActorSystem Home => system;

    public override void Tell(object message, ActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message is DeadLetter letter)
        {
            // A component reporting its own drop (with its reason) through the dead-letter channel.
            system.DeadLetter(letter.Message, letter.Sender, letter.Recipient, letter.Reason);
            return;
        }

        system.DeadLetter(message, sender, this, "sent to dead letters");
    }

    internal override void SendSystem(SystemMessage message)
    {
        if (message is Watch watch)
        {
            watch.Watcher.SendSystem(new DeathWatchNotification(watch.Watchee, existenceConfirmed: false, addressTerminated: false));
        }
    }
}
