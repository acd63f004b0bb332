namespace Legacy.Actors.Runtime;

internal interface IPromise
{
    void Fail(Exception exception);
}

/// <summary>
/// The temporary sender behind an Ask: the first reply completes the task (a
/// <see cref="Failure"/> faults it), the timeout or cancellation fails it, and later replies
/// are dropped. Continuations run asynchronously, never on the replying actor's turn.
/// </summary>
internal sealed class PromiseActorRef<T> : ActorRef, IPromise
{
    private readonly ActorSystem _system;
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ITimer _timer;
    private readonly CancellationTokenRegistration _cancellation;
    private readonly int _uid;
    private readonly ActorRef _target;
    private ActorPath? _path;

    public PromiseActorRef(ActorSystem system, ActorRef target, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _system = system;
        _target = target;
        _uid = system.NextUid();
        _timer = system.Time.CreateTimer(
            static state => ((PromiseActorRef<T>)state!).TimedOut(), this, timeout, Timeout.InfiniteTimeSpan);
        _cancellation = cancellationToken.UnsafeRegister(
            static (state, token) => ((PromiseActorRef<T>)state!).Complete(c => c.TrySetCanceled(token)), this);
    }

    public Task<T> Task => _completion.Task;

    public override ActorPath Path => _path ??= ActorPath.Root(_system.Address).Child("temp").Child("$ask" + ((uint)_uid).ToString("x8"));

    public override int Uid => _uid;

    internal override ActorSystem Home => _system;

    public override void Tell(object message, ActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        switch (message)
        {
            case T reply:
                Complete(c => c.TrySetResult(reply));
                break;
            case Failure failure:
                Fail(failure.Cause);
                break;
            default:
                Fail(new InvalidCastException($"Ask of {_target.Path} expected {typeof(T).Name} but the reply was {message.GetType().Name}"));
                break;
        }
    }

    internal override void SendSystem(SystemMessage message)
    {
        if (message is DeathWatchNotification notification)
        {
            Tell(new Terminated(notification.Actor, notification.ExistenceConfirmed, notification.AddressTerminated));
        }
    }

    public void Fail(Exception exception) => Complete(c => c.TrySetException(exception));

    private void TimedOut() =>
        Fail(new AskTimeoutException($"Ask of {_target.Path} timed out"));

    private void Complete(Func<TaskCompletionSource<T>, bool> complete)
    {
        if (complete(_completion))
        {
            _timer.Dispose();
            _cancellation.Dispose();
            _system.UnregisterTemp(this);
        }
    }
}
