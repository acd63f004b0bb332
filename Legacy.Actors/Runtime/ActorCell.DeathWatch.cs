namespace Legacy.Actors.Runtime;

/// <summary>
/// Death watch. A Terminated message is queued behind everything the dead actor sent us, and
/// is dropped if we unwatch before handling it.
/// </summary>
internal sealed partial class ActorCell
{
    public ActorRef Watch(ActorRef subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (ReferenceEquals(subject, this))
        {
            return subject;
        }

        if ((Extras.Watching ??= []).Add(subject))
        {
            subject.SendSystem(new Watch(subject, this));
        }

        return subject;
    }

    public void Unwatch(ActorRef subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        var extras = _extras;
        if (extras?.Watching?.Remove(subject) == true)
        {
            subject.SendSystem(new Unwatch(subject, this));
        }

        extras?.TerminatedQueued?.Remove(subject);
    }

    private void AddWatcher(Watch watch)
    {
        if (!ReferenceEquals(watch.Watchee, this))
        {
            return;
        }

        if (_state == CellState.Terminated)
        {
            watch.Watcher.SendSystem(new DeathWatchNotification(this, existenceConfirmed: true, addressTerminated: false));
            return;
        }

        (Extras.WatchedBy ??= []).Add(watch.Watcher);
    }

    private void HandleDeathWatchNotification(DeathWatchNotification notification)
    {
        var actor = notification.Actor;
        HandleChildTerminated(actor);
        if (_extras?.Watching?.Remove(actor) != true || _state is CellState.Terminating or CellState.Terminated)
        {
            return;
        }

        (Extras.TerminatedQueued ??= []).Add(actor);
        EnqueueBypassingCapacity(new Terminated(actor, notification.ExistenceConfirmed, notification.AddressTerminated), actor);
    }

    private bool AcceptTerminated(Terminated terminated) => _extras?.TerminatedQueued?.Remove(terminated.Actor) == true;

    private void NotifyWatchersAndParent(CellExtras? extras)
    {
        var parentNotified = false;
        if (extras?.WatchedBy is { } watchers)
        {
            foreach (var watcher in watchers)
            {
                watcher.SendSystem(new DeathWatchNotification(this, existenceConfirmed: true, addressTerminated: false));
                parentNotified |= ReferenceEquals(watcher, _parent);
            }

            extras.WatchedBy = null;
        }

        if (extras?.Watching is { } watching)
        {
            foreach (var subject in watching)
            {
                subject.SendSystem(new Unwatch(subject, this));
            }

            extras.Watching = null;
            extras.TerminatedQueued = null;
        }

        if (!parentNotified)
        {
            _parent?.SendSystem(new DeathWatchNotification(this, existenceConfirmed: true, addressTerminated: false));
        }
    }
}
