namespace Legacy.Actors.Runtime;

/// <summary>Creation, failure, restart and stop of the actor instance.</summary>
internal sealed partial class ActorCell
{
    private void Start()
    {
        if (_state != CellState.New)
        {
            return;
        }

        try
        {
            _actor = Construct();
            _state = CellState.Running;
            _actor.RunPreStart();
        }
        catch (Exception exception)
        {
            HandleFailure(exception);
        }
    }

    private Actor Construct()
    {
        var outer = t_constructing;
        t_constructing = this;
        try
        {
            var actor = _props.Factory();
            if (actor is null || !ReferenceEquals(actor.Cell, this) || ReferenceEquals(actor, _extras?.Retired))
            {
                throw new InvalidOperationException("Props.Factory must return a new actor instance on every call");
            }

            return actor;
        }
        finally
        {
            t_constructing = outer;
        }
    }

    /// <summary>The actor threw: suspend and let the parent decide. The failing message is not redelivered.</summary>
    private void HandleFailure(Exception exception)
    {
        if (_state is CellState.Terminating or CellState.Terminated)
        {
            Log.FailedWhileStopping(_system.Logger, Path.ToString(), exception);
            return;
        }

        _state = CellState.Suspended;
        if (_parent is null)
        {
            Log.RuntimeFault(_system.Logger, Path.ToString(), exception);
            BeginTermination();
            return;
        }

        _parent.SendSystem(new Failed(this, _uid, exception));
    }

    private void ResumeAfterFailure()
    {
        if (_state != CellState.Suspended || _extras?.PendingRecreate is not null)
        {
            return;
        }

        if (_actor is null)
        {
            // Failed in its constructor: there is no state to resume, so build it.
            BeginRecreate(new InvalidOperationException("resumed before the actor was constructed"));
            return;
        }

        _state = CellState.Running;
    }

    private void BeginRecreate(Exception cause)
    {
        if (_state is CellState.Terminating or CellState.Terminated)
        {
            return;
        }

        _state = CellState.Suspended;
        if (_actor is not null)
        {
            try
            {
                _actor.RunPreRestart(cause);
            }
            catch (Exception exception)
            {
                Log.HookFailed(_system.Logger, "PreRestart", Path.ToString(), exception);
            }
        }

        var extras = _extras;
        if (extras is not null)
        {
            extras.Timers?.CancelAll();
            extras.Behavior = null;
            UnstashAll(); // a restart keeps what was stashed
            var stopping = CountStoppingChildren();
            if (stopping > 0)
            {
                // The new instance may want the same child names: wait until they are free.
                extras.PendingRecreate = cause;
                extras.PendingStops = stopping;
                return;
            }
        }

        FinishRecreate(cause);
    }

    private void FinishRecreate(Exception cause)
    {
        if (_extras is not null)
        {
            _extras.PendingRecreate = null;
        }

        if (_actor is not null)
        {
            Extras.Retired = _actor; // until a fresh instance exists, so a factory cannot hand it back
        }

        _actor = null;
        try
        {
            _actor = Construct();
            if (_extras is not null)
            {
                _extras.Retired = null;
            }

            _state = CellState.Running;
            _actor.RunPostRestart(cause);
        }
        catch (Exception exception)
        {
            HandleFailure(exception);
        }
    }

    /// <summary>Stops after the current message: children first, then this actor.</summary>
    private void BeginTermination()
    {
        if (_state is CellState.Terminating or CellState.Terminated)
        {
            return;
        }

        _state = CellState.Terminating;
        _stopRequested = true;
        var extras = _extras;
        if (extras is not null)
        {
            extras.PendingRecreate = null;
            extras.Timers?.CancelAll();
        }

        var children = ChildrenSnapshot();
        if (children.Length == 0)
        {
            FinishTermination();
            return;
        }

        foreach (var child in children)
        {
            child.RequestStop();
        }
    }

    private void FinishTermination()
    {
        if (_actor is not null)
        {
            try
            {
                _actor.RunPostStop();
            }
            catch (Exception exception)
            {
                Log.HookFailed(_system.Logger, "PostStop", Path.ToString(), exception);
            }
        }

        _actor = null;
        var extras = _extras;
        if (extras is not null)
        {
            extras.Timers?.CancelAll();
            extras.Behavior = null;
            DropStash(extras);
        }

        _state = CellState.Terminated;
        DrainToDeadLetters();
        _parent?.RemoveChildEntry(this);
        NotifyWatchersAndParent(extras);
        extras?.Termination?.TrySetResult();
        if (_parent is null)
        {
            _system.OnRootTerminated();
        }
    }

    /// <summary>Marks the stop as requested (so a restarting parent waits for it) and sends it.</summary>
    internal void RequestStop()
    {
        _stopRequested = true;
        SendSystem(new Terminate());
    }
}
