using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Serialization;
using Cluster.Actors.Formation;
using Cluster.Actors.Serialization;
using Cluster.Actors.Sharding;
using AkkaAddress = Akka.Actor.Address;
using AkkaCluster = Akka.Cluster.Cluster;
using Cluster.Primitives;

namespace Cluster.Actors;

/// <summary>
/// One node's place in its datacenter's Akka cluster: starts the actor system with our
/// configuration and serializer, advertises its endpoint through the gossip pool, and drives
/// formation (<see cref="FormationPlanner"/>): join through the pool's members, down the members
/// the pool declares failed. If this node is itself downed while its process lives (gossip
/// thought it dead), it starts a new incarnation and joins again; the start callback runs on
/// every incarnation, so what the application builds on the system (shard regions) comes back too.
/// </summary>
public sealed class ActorNode : IAsyncDisposable
{
    private static readonly TimeSpan LeaveTimeout = TimeSpan.FromSeconds(10);
    private readonly ActorNodeOptions _options;
    private readonly IPoolView _pool;
    private readonly Func<ActorSystem, NodeDirectory, Task> _started;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _wake;
    private readonly Task _driver;
    private Incarnation _current;
    private readonly ChangeSignal _changed = new();
    private int _incarnations;

    private ActorNode(ActorNodeOptions options, IPoolView pool, Func<ActorSystem, NodeDirectory, Task> started, SemaphoreSlim wake, NodeDirectory directory, Incarnation first)
    {
        Directory = directory;
        _options = options;
        _wake = wake;
        _pool = pool;
        _started = started;
        _current = first;
        _incarnations = 1;
        _driver = Task.Run(DriveAsync);
    }

    /// <summary>The current incarnation's actor system.</summary>
    public ActorSystem System => Volatile.Read(ref _current).System;

    public AkkaAddress Address => AkkaCluster.Get(System).SelfAddress;

    /// <summary>Node name → actor address, from the pool (home placement reads it).</summary>
    public NodeDirectory Directory { get; }

    /// <summary>How many actor systems this node has run (more than one after it was downed while alive).</summary>
    public int Incarnations => Volatile.Read(ref _incarnations);

    /// <summary>
    /// Completes after the next formation round: one runs on every pool change, Akka membership or
    /// reachability change and restart, so a caller waiting for the cluster to reach a state
    /// re-checks exactly when it may have.
    /// </summary>
    public Task Changed => _changed.Next;

    /// <summary>The current incarnation's view of the cluster (read from Akka's cluster state; <see cref="Changed"/> says when to read again).</summary>
    public ActorNodeStatus Status()
    {
        var current = Volatile.Read(ref _current);
        var state = current.Cluster.State;
        var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
        var self = state.Members.FirstOrDefault(m => m.Address.Equals(current.Address));
        var members = state.Members
            .OrderBy(m => m.Address.ToString(), StringComparer.Ordinal)
            .Select(m => new ActorMemberStatus(m.Address.ToString(), m.Status.ToString(), !unreachable.Contains(m.Address)))
            .ToImmutableArray();
        return new ActorNodeStatus(current.Address.ToString(), self?.Status.ToString() ?? "Joining", Incarnations, state.Leader?.ToString(), members);
    }

    /// <summary>Completes when this incarnation is an Up member of the cluster.</summary>
    public Task Up => Volatile.Read(ref _current).Up.Task;

    /// <summary>Starts the first incarnation; <paramref name="started"/> runs on each new actor system before it joins (start shard regions there).</summary>
    public static async Task<ActorNode> StartAsync(ActorNodeOptions options, IPoolView pool, Func<ActorSystem, NodeDirectory, Task>? started = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(pool);
        started ??= (_, _) => Task.CompletedTask;
        var wake = new SemaphoreSlim(0);
        var directory = new NodeDirectory();
        var first = await Incarnation.StartAsync(options, pool, started, wake, directory).ConfigureAwait(false);
        return new ActorNode(options, pool, started, wake, directory, first);
    }

    /// <summary>Creates an actor system with our configuration and the MessagePack serializer for the options' messages (no cluster formation: tests and tools).</summary>
    public static ActorSystem CreateSystem(ActorNodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var serialization = SerializationSetup.Create(system => ImmutableHashSet.Create(
            SerializerDetails.Create("msgpack", new MessagePackActorSerializer(system, options.Messages), ImmutableHashSet.Create(typeof(IWireMessage)))));
        var setup = BootstrapSetup.Create().WithConfig(NodeConfig.For(options)).And(serialization);
        if (options.Logging is { } logging)
        {
            setup = setup.And(new Akka.Hosting.Logging.LoggerFactorySetup(logging));
        }

        return ActorSystem.Create(options.SystemName, setup);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _wake.Release();
        await _driver.ConfigureAwait(false);
        var current = Volatile.Read(ref _current);
        await current.LeaveAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _wake.Dispose();
    }

    private async Task DriveAsync()
    {
        var startedAt = _options.Time.GetTimestamp();
        TimeSpan? firstPeerAt = null;
        while (!_stopping.IsCancellationRequested)
        {
            var changed = _pool.Changed;
            var current = Volatile.Read(ref _current);
            if (current.Removed.Task.IsCompleted)
            {
                await RestartAsync(current).ConfigureAwait(false);
                continue;
            }

            var members = _pool.Members;
            var self = current.Address;
            var elapsed = _options.Time.GetElapsedTime(startedAt);
            if (firstPeerAt is null && members.Any(m => m.State == PoolMemberState.Alive && m.Actors is { } a && !a.Equals(self)))
            {
                firstPeerAt = elapsed;
            }

            var settled = _options.ExpectPeers
                ? firstPeerAt is { } seen && elapsed - seen >= _options.SettleAfter
                : elapsed >= _options.SettleAfter;
            var akkaMembers = current.Cluster.State.Members.Select(m => m.Address).ToList();
            var plan = FormationPlanner.Plan(self, members, akkaMembers, current.JoinRequested, settled, Directory.Entries);
            Directory.Replace(plan.Directory);
            if (plan.JoinSeeds is { } seeds)
            {
                current.Cluster.JoinSeedNodes(seeds);
                current.JoinRequested = true;
            }

            foreach (var address in plan.Down)
            {
                current.Cluster.Down(address);
            }

            _changed.Fire();

            // Wake on a pool change, an Akka membership change, or (while not yet settled) the settle deadline.
            var wait = !current.JoinRequested ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromSeconds(5);
            try
            {
                await Task.WhenAny(changed, _wake.WaitAsync(_stopping.Token), current.Removed.Task, Task.Delay(wait, _options.Time, _stopping.Token)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private async Task RestartAsync(Incarnation old)
    {
        await old.TerminateAsync().ConfigureAwait(false);
        var next = await Incarnation.StartAsync(_options, _pool, _started, _wake, Directory).ConfigureAwait(false);
        Volatile.Write(ref _current, next);
        Interlocked.Increment(ref _incarnations);
    }

    /// <summary>One actor system's life in the cluster.</summary>
    private sealed class Incarnation
    {
        private Incarnation(ActorSystem system)
        {
            System = system;
            Cluster = AkkaCluster.Get(system);
            Address = Cluster.SelfAddress;
            Cluster.RegisterOnMemberUp(() => Up.TrySetResult());
            Cluster.RegisterOnMemberRemoved(() => Removed.TrySetResult());
        }

        public ActorSystem System { get; }

        public AkkaCluster Cluster { get; }

        public AkkaAddress Address { get; }

        public bool JoinRequested { get; set; }

        public TaskCompletionSource Up { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Removed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static async Task<Incarnation> StartAsync(ActorNodeOptions options, IPoolView pool, Func<ActorSystem, NodeDirectory, Task> started, SemaphoreSlim wake, NodeDirectory directory)
        {
            var system = CreateSystem(options);
            var incarnation = new Incarnation(system);
            system.ActorOf(Props.Create(() => new MemberEvents(wake)), "formation-events");
            await started(system, directory).ConfigureAwait(false);
            pool.Advertise(incarnation.Address);
            return incarnation;
        }

        public async Task LeaveAsync()
        {
            // A graceful leave hands this node's shards over before the system stops; bounded,
            // because a node that cannot reach the others still has to stop.
            if (Cluster.State.Members.Any(m => m.Address.Equals(Address)))
            {
                try
                {
                    await Cluster.LeaveAsync().WaitAsync(LeaveTimeout).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                }
            }

            await TerminateAsync().ConfigureAwait(false);
        }

        public Task TerminateAsync() => System.Terminate();
    }

    /// <summary>Turns Akka's member events into a wake-up of the formation loop.</summary>
    private sealed class MemberEvents(SemaphoreSlim wake) : UntypedActor
    {
        protected override void PreStart() =>
            AkkaCluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

        protected override void PostStop() => AkkaCluster.Get(Context.System).Unsubscribe(Self);

        protected override void OnReceive(object message) => wake.Release();
    }
}
