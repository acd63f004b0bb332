using Legacy.Actors.Dispatch;
using Legacy.Actors.Timers;

namespace Legacy.Actors.Runtime;

/// <summary>
/// One actor incarnation slot: its mailbox, its lifecycle state and its place in the
/// hierarchy. The cell is also the actor's local reference and its context (one object, so an
/// idle actor costs a few hundred bytes). Everything except <see cref="Tell"/>,
/// <see cref="SendSystem"/> and the children table runs on the actor's own turn.
/// </summary>
internal sealed partial class ActorCell : ActorRef, IActorContext, IThreadPoolWorkItem
{
    [ThreadStatic]
    private static ActorCell? t_constructing;

    private readonly ActorSystem _system;
    private readonly ActorCell? _parent;
    private readonly string _name;
    private readonly int _uid;
    private readonly int _capacity; // 0 = unbounded
    private readonly Props _props;
    private ActorPath? _path;

    private MessageQueue _mailbox = new();
    private SystemMessage? _systemInbox; // Treiber stack, newest first
    private int _scheduled;
    private int _queued;     // bounded mailboxes only
    private int _dropOldest; // DropOldest: how many of the oldest messages the consumer must discard
    private volatile CellState _state;
    private volatile bool _stopRequested;

    private Actor? _actor;
    private ActorRef? _currentSender;
    private object? _currentMessage;
    private CellExtras? _extras;

    public ActorCell(ActorSystem system, ActorCell? parent, string name, Props props, int uid)
    {
        _system = system;
        _parent = parent;
        _name = name;
        _props = props;
        _uid = uid;
        _capacity = props.Mailbox.Capacity ?? 0;
    }

    /// <summary>The cell whose actor is being constructed on this thread (read by <see cref="Actor"/>'s constructor).</summary>
    internal static ActorCell? Constructing => t_constructing;

    public override ActorPath Path => _path ??= _parent is null ? ActorPath.Root(_system.Address) : _parent.Path.Child(_name);

    public override int Uid => _uid;

    internal override ActorSystem Home => _system;

    internal string Name => _name;

    internal CellState State => _state;

    internal bool IsTerminated => _state == CellState.Terminated;

    internal Props Props => _props;

    ActorSystem IActorContext.System => _system;

    public ActorRef Self => this;

    public ActorRef Parent => (ActorRef?)_parent ?? this;

    public ActorRef Sender => _currentSender ?? _system.DeadLetters;

    public ITimerScheduler Timers => Extras.Timers ??= new TimerScheduler(this, _system.Time);

    private CellExtras Extras
    {
        get
        {
            var extras = _extras;
            if (extras is null)
            {
                Interlocked.CompareExchange(ref _extras, new CellExtras(), null);
                extras = _extras!;
            }

            return extras;
        }
    }

    public override void Tell(object message, ActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        Enqueue(message, sender, bounded: true);
    }

    /// <summary>For runtime messages a full mailbox must not drop (Terminated, timer ticks).</summary>
    internal void EnqueueBypassingCapacity(object message, ActorRef? sender) => Enqueue(message, sender, bounded: false);

    private void Enqueue(object message, ActorRef? sender, bool bounded)
    {
        if (_state == CellState.Terminated)
        {
            _system.DeadLetter(message, sender, this, "recipient stopped");
            return;
        }

        if (_capacity > 0 && Interlocked.Increment(ref _queued) > _capacity && bounded)
        {
            if (_props.Mailbox.Overflow == OverflowPolicy.DropNewest)
            {
                Interlocked.Decrement(ref _queued);
                _system.DeadLetter(message, sender, this, "mailbox full");
                return;
            }

            // Only the consumer may dequeue, so it discards the oldest on our behalf.
            Interlocked.Increment(ref _dropOldest);
        }

        _mailbox.Enqueue(message, sender);
        ScheduleIfIdle();
    }

    internal override void SendSystem(SystemMessage message)
    {
        var head = Volatile.Read(ref _systemInbox);
        while (true)
        {
            message.Next = head;
            var seen = Interlocked.CompareExchange(ref _systemInbox, message, head);
            if (seen == head)
            {
                break;
            }

            head = seen;
        }

        ScheduleIfIdle();
    }

    private void ScheduleIfIdle()
    {
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0)
        {
            _system.Dispatcher.Schedule(this);
        }
    }

    /// <summary>One mailbox run: system messages first, then up to the throughput budget of user messages.</summary>
    public void Execute()
    {
        try
        {
            ProcessSystemMessages();
            var budget = _system.Throughput;
            while (_state == CellState.Running && budget-- > 0 && TryDequeue(out var message, out var sender))
            {
                Invoke(message, sender);
                if (Volatile.Read(ref _systemInbox) is not null)
                {
                    ProcessSystemMessages();
                }
            }

            if (_state == CellState.Terminated)
            {
                DrainToDeadLetters();
            }
        }
        catch (Exception exception)
        {
            // A fault in the runtime itself, not in an actor: never let it take the pool thread down.
            Log.RuntimeFault(_system.Logger, Path.ToString(), exception);
        }
        finally
        {
            // A full fence: a producer that saw 1 relies on us re-checking its message below.
            Interlocked.Exchange(ref _scheduled, 0);
            if (HasRunnableWork)
            {
                ScheduleIfIdle();
            }
        }
    }

    private bool HasRunnableWork =>
        Volatile.Read(ref _systemInbox) is not null ||
        ((_state is CellState.Running or CellState.Terminated) && (_mailbox.HasMessages || _extras?.Unstashed?.Count > 0));

    private bool TryDequeue(out object message, out ActorRef? sender)
    {
        if (_extras?.Unstashed is { Count: > 0 } unstashed)
        {
            (message, sender) = unstashed.Dequeue();
            return true;
        }

        while (_mailbox.TryDequeue(out message, out sender))
        {
            if (_capacity == 0)
            {
                return true;
            }

            Interlocked.Decrement(ref _queued);
            if (Volatile.Read(ref _dropOldest) > 0 && Interlocked.Decrement(ref _dropOldest) >= 0)
            {
                _system.DeadLetter(message, sender, this, "mailbox full, oldest dropped");
                continue;
            }

            return true;
        }

        return false;
    }

    private void DrainToDeadLetters()
    {
        while (TryDequeue(out var message, out var sender))
        {
            _system.DeadLetter(message, sender, this, "recipient stopped");
        }
    }

    private void ProcessSystemMessages()
    {
        SystemMessage? batch;
        while ((batch = Interlocked.Exchange(ref _systemInbox, null)) is not null)
        {
            // The inbox is a stack; reverse it so messages are handled in the order sent.
            SystemMessage? ordered = null;
            while (batch is not null)
            {
                var next = batch.Next;
                batch.Next = ordered;
                ordered = batch;
                batch = next;
            }

            while (ordered is not null)
            {
                var message = ordered;
                ordered = ordered.Next;
                message.Next = null;
                try
                {
                    HandleSystem(message);
                }
                catch (Exception exception)
                {
                    HandleFailure(exception);
                }
            }
        }
    }

    private void HandleSystem(SystemMessage message)
    {
        switch (message)
        {
            case Create:
                Start();
                break;
            case Terminate:
                BeginTermination();
                break;
            case Resume:
                ResumeAfterFailure();
                break;
            case Recreate recreate:
                BeginRecreate(recreate.Cause);
                break;
            case Failed failed:
                Supervise(failed);
                break;
            case Watch watch:
                AddWatcher(watch);
                break;
            case Unwatch unwatch:
                _extras?.WatchedBy?.Remove(unwatch.Watcher);
                break;
            case DeathWatchNotification notification:
                HandleDeathWatchNotification(notification);
                break;
        }
    }

    private void Invoke(object message, ActorRef? sender)
    {
        _currentSender = sender;
        _currentMessage = message;
        try
        {
            switch (message)
            {
                case PoisonPill:
                    BeginTermination();
                    break;
                case TimerFired fired:
                    if (_extras?.Timers?.Accept(fired) is { } timed)
                    {
                        _currentMessage = timed;
                        Dispatch(timed);
                    }

                    break;
                case Terminated terminated:
                    if (AcceptTerminated(terminated))
                    {
                        Dispatch(terminated);
                    }

                    break;
                default:
                    Dispatch(message);
                    break;
            }
        }
        catch (Exception exception)
        {
            HandleFailure(exception);
        }
        finally
        {
            _currentSender = null;
            _currentMessage = null;
        }
    }

    private void Dispatch(object message)
    {
        if (_extras?.Behavior is { } behavior)
        {
            behavior(message);
        }
        else
        {
            _actor!.RunReceive(message);
        }
    }

    internal void Unhandled(object message)
    {
        Log.Unhandled(_system.Logger, message.GetType().Name, Path.ToString());
        _system.EventStream.Publish(new UnhandledMessage(message, _currentSender, this));
    }

    public void Become(Action<object> receive)
    {
        ArgumentNullException.ThrowIfNull(receive);
        Extras.Behavior = receive;
    }

    public void Unbecome()
    {
        if (_extras is not null)
        {
            _extras.Behavior = null;
        }
    }

    /// <summary>Completes when this incarnation has stopped.</summary>
    internal Task WhenTerminated
    {
        get
        {
            if (_state == CellState.Terminated)
            {
                return Task.CompletedTask;
            }

            var extras = Extras;
            Interlocked.CompareExchange(ref extras.Termination, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);
            if (_state == CellState.Terminated)
            {
                extras.Termination!.TrySetResult();
            }

            return extras.Termination!.Task;
        }
    }
}

internal enum CellState
{
    /// <summary>Created; the actor instance is built by the first system message.</summary>
    New,
    Running,

    /// <summary>Failed and waiting for its supervisor (or for its children to stop before a restart).</summary>
    Suspended,

    /// <summary>Stopping children; user messages wait, then go to dead letters.</summary>
    Terminating,
    Terminated,
}
