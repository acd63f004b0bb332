using Legacy.Actors.Dispatch;
using System.Collections.Concurrent;
using Legacy.Actors.Events;
using Legacy.Actors.Remoting;
using Legacy.Actors.Runtime;
using Legacy.Actors.Supervision;
using Microsoft.Extensions.Logging;

namespace Legacy.Actors;

/// <summary>
/// A tree of actors: the root guardian, <c>/user</c> for application actors and <c>/system</c>
/// for runtime actors (remoting, sharding). Stopping <c>/user</c> (or calling
/// <see cref="Terminate"/>) stops the whole system, application actors first.
/// </summary>
public sealed class ActorSystem : IAsyncDisposable
{
    private readonly Lock _randomLock = new();
    private readonly Random _random;
    private readonly uint _uidSeed;
    private int _uidCounter;
    private readonly TaskCompletionSource _terminated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ActorCell _root;
    private readonly ActorCell _userGuardian;
    private readonly ActorCell _systemGuardian;
    private readonly ConcurrentDictionary<string, ActorRef> _temp = new(StringComparer.Ordinal);
    private long _deadLetters;

    private ActorSystem(string name, ActorSystemOptions options)
    {
        Name = name;
        Options = options;
        Address = options.RemoteEndpoint is { } endpoint ? new Address(name, endpoint.Host, endpoint.Port) : new Address(name);
        Time = options.Time;
        Dispatcher = options.Dispatcher;
        Throughput = options.Throughput;
        GuardianStrategy = options.GuardianStrategy;
        Logger = options.LoggerFactory.CreateLogger("Legacy.Actors");
        _random = options.Random;
        _uidSeed = (uint)_random.Next(int.MinValue, int.MaxValue);
        EventStream = new EventStream();
        DeadLetters = new DeadLetterRef(this);

        _root = new ActorCell(this, null, "", Props.Create(static () => new RootGuardian()), NextUid());
        _userGuardian = _root.CreateChild(Props.Create(static () => new Guardian()), "user", systemName: true);
        _systemGuardian = _root.CreateChild(Props.Create(static () => new Guardian()), "system", systemName: true);
        _root.SendSystem(new Create()); // after the guardians exist: the root watches them in PreStart
    }

    public static ActorSystem Create(string name, ActorSystemOptions? options = null)
    {
        ActorPath.ValidateElement(name);
        if (name.Contains('@', StringComparison.Ordinal) || name.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{name}' is not a valid actor system name: no '@' or ':'", nameof(name));
        }

        return new ActorSystem(name, options ?? new ActorSystemOptions());
    }

    public string Name { get; }

    public Address Address { get; }

    public ActorSystemOptions Options { get; }

    public TimeProvider Time { get; }

    public IDispatcher Dispatcher { get; }

    public EventStream EventStream { get; }

    /// <summary>Where undeliverable messages go; also the sender seen for messages told without one.</summary>
    public ActorRef DeadLetters { get; }

    /// <summary>Messages that could not be delivered since start.</summary>
    public long DeadLetterCount => Interlocked.Read(ref _deadLetters);

    /// <summary>Completes when every actor has stopped.</summary>
    public Task WhenTerminated => _terminated.Task;

    internal int Throughput { get; }

    internal SupervisorStrategy GuardianStrategy { get; }

    internal ILogger Logger { get; }

    internal ActorCell SystemGuardian => _systemGuardian;

    /// <summary>The remoting transport, when this system was started as a node.</summary>
    public RemoteTransport? Remote { get; private set; }

    internal void AttachRemote(RemoteTransport transport) => Remote = transport;

    /// <summary>Makes a temporary reference (Ask promise, function ref) resolvable by path while it lives.</summary>
    internal void RegisterTemp(ActorRef actor)
    {
        var name = actor.Path.Name;
        if (!_temp.ContainsKey(name)) // a lock-free read first: this runs for every message such a ref sends
        {
            _temp.TryAdd(name, actor);
        }
    }

    internal void UnregisterTemp(ActorRef actor) => _temp.TryRemove(new KeyValuePair<string, ActorRef>(actor.Path.Name, actor));

    /// <summary>Creates a top-level actor under <c>/user</c>; safe from any thread.</summary>
    public ActorRef ActorOf(Props props, string? name = null) => _userGuardian.ActorOf(props, name);

    /// <summary>Creates a runtime actor under <c>/system</c>.</summary>
    internal ActorRef SystemActorOf(Props props, string name) => _systemGuardian.CreateChild(props, name, systemName: true);

    /// <summary>Stops any local actor after its current message.</summary>
    public void Stop(ActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (actor.Home != this)
        {
            throw new ArgumentException($"{actor} belongs to another actor system", nameof(actor));
        }

        if (actor is ActorCell cell)
        {
            cell.RequestStop();
        }
        else
        {
            actor.SendSystem(new Terminate());
        }
    }

    /// <summary>Stops all actors (application actors first) and completes when they have stopped.</summary>
    public Task Terminate()
    {
        _userGuardian.RequestStop();
        return WhenTerminated;
    }

    public async ValueTask DisposeAsync() => await Terminate();

    /// <summary>
    /// The actor at <paramref name="path"/> (and uid, when not 0): a live local actor, a remote
    /// reference when the path names another node and remoting is on, dead letters otherwise.
    /// </summary>
    public ActorRef Resolve(ActorPath path, int uid = 0)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Address != Address)
        {
            return Remote is { } remote && path.Address.HasHost ? remote.RemoteRef(path, uid) : DeadLetters;
        }

        var elements = path.Elements;
        if (elements is ["temp", var tempName])
        {
            return _temp.TryGetValue(tempName, out var temp) && (uid == 0 || temp.Uid == uid) ? temp : DeadLetters;
        }

        var cell = _root;
        foreach (var name in elements)
        {
            var child = cell.ChildCell(name);
            if (child is null)
            {
                return DeadLetters;
            }

            cell = child;
        }

        return uid != 0 && cell.Uid != uid ? DeadLetters : cell;
    }

    /// <summary>
    /// A reference that calls <paramref name="onMessage"/> (from the sender's thread, possibly
    /// concurrently) for every message, including <see cref="Terminated"/> for what it watches.
    /// The test kit's probes are built on it.
    /// </summary>
    public FunctionRef CreateFunctionRef(Action<object, ActorRef?> onMessage, string? name = null) =>
        new(this, name ?? "$fn" + NextUid().ToString("x8"), NextUid(), onMessage);

    /// <summary>
    /// A fresh incarnation uid: a counter run through a bijective mix and a per-start random
    /// seed, so uids never repeat within a run, differ between runs, and cost no lock (Ask and
    /// entity creation take one each).
    /// </summary>
    internal int NextUid()
    {
        while (true)
        {
            var x = (uint)Interlocked.Increment(ref _uidCounter) ^ _uidSeed;
            x ^= x >> 16;
            x *= 0x7FEB352Du;
            x ^= x >> 15;
            x *= 0x846CA68Bu;
            x ^= x >> 16;
            if (x != 0)
            {
                return (int)x;
            }
        }
    }

    internal double NextDouble()
    {
        lock (_randomLock)
        {
            return _random.NextDouble();
        }
    }

    internal void DeadLetter(object message, ActorRef? sender, ActorRef recipient, string reason)
    {
        if (message is Timers.TimerFired)
        {
            return; // a tick of a timer that died with its actor: not the user's message
        }

        if (sender is IPromise promise)
        {
            promise.Fail(new UndeliveredException($"{recipient.Path} did not receive {message.GetType().Name}: {reason}"));
        }

        var count = Interlocked.Increment(ref _deadLetters);
        if (message is DeadLetter)
        {
            return; // never publish a dead letter about a dead letter
        }

        var limit = Options.DeadLetterLogLimit;
        if (count <= limit)
        {
            Log.DeadLetter(Logger, message.GetType().Name, recipient.Path.ToString(), sender?.Path.ToString() ?? "nobody", reason);
            if (count == limit)
            {
                Log.DeadLettersQuiet(Logger, limit);
            }
        }

        EventStream.Publish(new DeadLetter(message, sender, recipient, reason));
    }

    internal void OnRootTerminated()
    {
        if (Remote is { } remote)
        {
            // Peers hear that we left (no waiting for their failure detectors), then the endpoint closes.
            remote.StopAsync().ContinueWith(_ => _terminated.TrySetResult(), TaskScheduler.Default);
        }
        else
        {
            _terminated.TrySetResult();
        }
    }

    /// <summary>The root: when <c>/user</c> stops, the system stops.</summary>
    private sealed class RootGuardian : Actor
    {
        protected override void PreStart()
        {
            // By reference, not from Context.Children: under load this first run can come after
            // /user has already stopped and left the children table, and then nothing would ever
            // stop the root. A watch on a stopped guardian still answers with Terminated.
            var system = Context.System;
            Context.Watch(system._userGuardian);
            Context.Watch(system._systemGuardian);
        }

        protected override void Receive(object message)
        {
            if (message is Terminated { Actor: ActorCell { Name: "user" } })
            {
                Context.Stop(Self);
            }
        }
    }

    private sealed class Guardian : Actor
    {
        protected override void Receive(object message) => Unhandled(message);
    }
}
