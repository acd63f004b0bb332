namespace Legacy.Actors.Runtime;

/// <summary>The children table: creation, lookup, stop and the parent's side of their end.</summary>
internal sealed partial class ActorCell
{
    public ActorRef ActorOf(Props props, string? name = null) => CreateChild(props, name, systemName: false);

    internal ActorCell CreateChild(Props props, string? name, bool systemName)
    {
        ArgumentNullException.ThrowIfNull(props);
        var extras = Extras;
        ActorCell child;
        lock (extras)
        {
            // Checked under the lock BeginTermination's snapshot takes: a child added after that
            // snapshot would never be asked to stop, and the parent would wait for it forever.
            if (_state is CellState.Terminating or CellState.Terminated)
            {
                throw new InvalidOperationException($"{Path} is stopping and cannot create children");
            }

            if (name is null)
            {
                name = "$" + ToBase36(++extras.NameCounter);
            }
            else
            {
                ActorPath.ValidateElement(name);
                if (name[0] == '$' && !systemName)
                {
                    throw new InvalidActorNameException($"'{name}': names starting with '$' are reserved for generated names");
                }
            }

            extras.Children ??= new Dictionary<string, ActorCell>(StringComparer.Ordinal);
            if (extras.Children.ContainsKey(name))
            {
                throw new InvalidActorNameException($"'{name}' is already taken under {Path}");
            }

            child = new ActorCell(_system, this, name, props, _system.NextUid());
            extras.Children.Add(name, child);
        }

        child.SendSystem(new Create());
        return child;
    }

    public ActorRef? Child(string name)
    {
        var extras = _extras;
        if (extras is null)
        {
            return null;
        }

        lock (extras)
        {
            return extras.Children is not null && extras.Children.TryGetValue(name, out var child) && !child._stopRequested ? child : null;
        }
    }

    /// <summary>The child in slot <paramref name="name"/>, including one that is stopping.</summary>
    internal ActorCell? ChildCell(string name)
    {
        var extras = _extras;
        if (extras is null)
        {
            return null;
        }

        lock (extras)
        {
            return extras.Children is not null && extras.Children.TryGetValue(name, out var child) ? child : null;
        }
    }

    public IReadOnlyCollection<ActorRef> Children => ChildrenSnapshot();

    internal ActorCell[] ChildrenSnapshot()
    {
        var extras = _extras;
        if (extras is null)
        {
            return [];
        }

        lock (extras)
        {
            return extras.Children is { Count: > 0 } children ? [.. children.Values] : [];
        }
    }

    public void Stop(ActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (ReferenceEquals(actor, this))
        {
            // After the current message: system messages are handled before the next one.
            RequestStop();
            return;
        }

        if (actor is ActorCell cell && ReferenceEquals(cell._parent, this))
        {
            cell.RequestStop();
            return;
        }

        throw new InvalidOperationException($"{Path} may stop itself and its children, not {actor.Path}");
    }

    private int ChildCount
    {
        get
        {
            var extras = _extras;
            if (extras is null)
            {
                return 0;
            }

            lock (extras)
            {
                return extras.Children?.Count ?? 0;
            }
        }
    }

    /// <summary>Children asked to stop whose end we have not heard yet (a restart waits for them).</summary>
    private int CountStoppingChildren() => ChildrenSnapshot().Count(static c => c._stopRequested);

    /// <summary>A child stopped: free its name, forget its failures, and finish our own stop or restart if it waited.</summary>
    private bool HandleChildTerminated(ActorRef actor)
    {
        if (actor is not ActorCell cell || !ReferenceEquals(cell._parent, this) || _extras is not { } extras)
        {
            return false;
        }

        RemoveChildEntry(cell);

        if (extras.RestartStats?.Remove(cell, out var stats) == true)
        {
            stats.Pending?.Dispose();
        }

        // Both checks are O(1): a parent of 100,000 children must not go quadratic while they stop.
        if (_state == CellState.Terminating && ChildCount == 0)
        {
            FinishTermination();
        }
        else if (extras.PendingRecreate is { } cause && cell._stopRequested && --extras.PendingStops <= 0)
        {
            FinishRecreate(cause);
        }

        return true;
    }

    /// <summary>
    /// Frees the child's name. The child calls this itself as it stops, before telling anyone,
    /// so whoever learns of its end (GracefulStop, a watcher) can reuse the name at once.
    /// </summary>
    internal void RemoveChildEntry(ActorCell child)
    {
        var extras = _extras;
        if (extras is null)
        {
            return;
        }

        lock (extras)
        {
            if (extras.Children is not null && extras.Children.TryGetValue(child._name, out var current) && ReferenceEquals(current, child))
            {
                extras.Children.Remove(child._name);
            }
        }
    }

    private static string ToBase36(int value)
    {
        const string Digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        Span<char> buffer = stackalloc char[8];
        var position = buffer.Length;
        do
        {
            buffer[--position] = Digits[value % 36];
            value /= 36;
        }
        while (value > 0);
        return new string(buffer[position..]);
    }
}
