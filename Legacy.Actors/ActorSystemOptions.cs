using Legacy.Actors.Dispatch;
using Legacy.Actors.Supervision;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Legacy.Actors;

/// <summary>Everything an actor system takes from outside: clock, randomness, threads and logging.</summary>
public sealed record ActorSystemOptions
{
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Source of actor uids and backoff jitter; seed it in tests.</summary>
    public Random Random { get; init; } = Random.Shared;

    public IDispatcher Dispatcher { get; init; } = ThreadPoolDispatcher.Instance;

    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>User messages an actor handles per turn before yielding its thread.</summary>
    public int Throughput { get; init; } = 64;

    /// <summary>Strategy of the guardians for top-level actors; escalation there means stop.</summary>
    public SupervisorStrategy GuardianStrategy { get; init; } = SupervisorStrategy.Default;

    /// <summary>Dead letters logged one by one before the log goes quiet (they are still counted and published).</summary>
    public int DeadLetterLogLimit { get; init; } = 10;

    /// <summary>Host and port this system is reachable at once remoting is on; null for a local-only system.</summary>
    public (string Host, int Port)? RemoteEndpoint { get; init; }
}
