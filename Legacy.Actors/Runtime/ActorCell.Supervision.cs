using Legacy.Actors.Supervision;

namespace Legacy.Actors.Runtime;

/// <summary>The parent's side of a child's failure: decide, then resume, restart after a backoff, stop or escalate.</summary>
internal sealed partial class ActorCell
{
    private void Supervise(Failed failed)
    {
        if (failed.Child is not ActorCell child || !ReferenceEquals(child._parent, this) || ChildCell(child._name) != child)
        {
            return; // a stale report from a child that is already gone
        }

        var strategy = _props.SupervisorStrategy ?? (_parent?._parent is null ? _system.GuardianStrategy : SupervisorStrategy.Default);
        Directive directive;
        try
        {
            directive = strategy.Decider(failed.Cause);
        }
        catch (Exception exception)
        {
            Log.HookFailed(_system.Logger, "SupervisorStrategy.Decider", Path.ToString(), exception);
            directive = Directive.Escalate;
        }

        if (directive == Directive.Escalate && _parent?._parent is null)
        {
            // Nobody above a guardian can do better: stop the top-level actor rather than the system.
            directive = Directive.Stop;
        }

        if (directive == Directive.Restart && !ScheduleRestart(child, strategy, failed.Cause))
        {
            directive = Directive.Stop;
        }

        Log.ChildFailed(_system.Logger, child.Path.ToString(), directive, failed.Cause);
        switch (directive)
        {
            case Directive.Resume:
                child.SendSystem(new Resume());
                break;
            case Directive.Stop:
                child.RequestStop();
                break;
            case Directive.Escalate:
                HandleFailure(failed.Cause);
                break;
        }
    }

    /// <summary>Arms the child's restart after its backoff; false when it used up its restarts.</summary>
    private bool ScheduleRestart(ActorCell child, SupervisorStrategy strategy, Exception cause)
    {
        var extras = Extras;
        extras.RestartStats ??= [];
        if (!extras.RestartStats.TryGetValue(child, out var stats))
        {
            stats = new RestartStats();
            extras.RestartStats.Add(child, stats);
        }

        var time = _system.Time;
        var now = time.GetTimestamp();
        if (stats.Failures > 0 && time.GetElapsedTime(stats.LastFailure, now) >= strategy.ResetAfter)
        {
            stats.Failures = 0;
        }

        stats.Failures++;
        stats.LastFailure = now;
        if (strategy.MaxRestarts is { } max && stats.Failures > max)
        {
            return false;
        }

        stats.Pending?.Dispose();
        stats.Pending = null;
        var delay = strategy.BackoffFor(stats.Failures, _system.NextDouble());
        if (delay <= TimeSpan.Zero)
        {
            child.SendSystem(new Recreate(cause));
        }
        else
        {
            stats.Pending = time.CreateTimer(
                static state =>
                {
                    var (target, reason) = ((ActorCell, Exception))state!;
                    target.SendSystem(new Recreate(reason));
                },
                (child, cause),
                delay,
                Timeout.InfiniteTimeSpan);
        }

        return true;
    }
}
