namespace Legacy.Actors.Runtime;

/// <summary>
/// Stash: messages set aside during a phase (e.g. while waiting for a hand-off) and put back
/// in front of the mailbox later, in order. A restart keeps them; a stop sends them to dead letters.
/// </summary>
internal sealed partial class ActorCell
{
    internal void StashCurrent()
    {
        var message = _currentMessage ?? throw new InvalidOperationException("Stash is only valid while handling a message");
        var extras = Extras;
        extras.Stash ??= [];
        if (extras.Stash.Count >= _props.StashCapacity)
        {
            throw new StashOverflowException($"{Path} stashed more than {_props.StashCapacity} messages");
        }

        extras.Stash.Add((message, _currentSender));
    }

    internal void UnstashAll()
    {
        if (_extras?.Stash is not { Count: > 0 } stash)
        {
            return;
        }

        // Stashed messages are older than anything unstashed earlier and not yet handled.
        var front = new Queue<(object, ActorRef?)>(stash);
        if (_extras.Unstashed is { } earlier)
        {
            foreach (var item in earlier)
            {
                front.Enqueue(item);
            }
        }

        _extras.Unstashed = front;
        stash.Clear();
    }

    private void DropStash(CellExtras extras)
    {
        foreach (var (message, sender) in extras.Stash ?? [])
        {
            _system.DeadLetter(message, sender, this, "recipient stopped with the message stashed");
        }

        extras.Stash = null;
    }
}
