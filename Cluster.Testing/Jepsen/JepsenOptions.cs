namespace Cluster.Testing.Jepsen;

/// <summary>The faults the nemesis injects.</summary>
public enum FaultKind
{
    /// <summary>SIGKILL a server, restart it (same data directory) a little later.</summary>
    Kill,

    /// <summary>SIGSTOP a server (a GC pause, a VM stall), SIGCONT it a little later.</summary>
    Pause,

    /// <summary>Cut a server off from the other servers (clients still reach it), heal a little later.</summary>
    Partition,
}

/// <summary>One run of the history check: servers, clients, faults, workload and how long.</summary>
public sealed record JepsenOptions
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(120);

    public int Servers { get; init; } = 3;

    /// <summary>Concurrent clients; client i talks to server i mod Servers, as an application beside that server would.</summary>
    public int Clients { get; init; } = 6;

    /// <summary>Seeds the workload and the nemesis (which faults, which servers); timing still comes from the real processes.</summary>
    public int Seed { get; init; } = 1;

    public IReadOnlyList<FaultKind> Faults { get; init; } = [FaultKind.Kill, FaultKind.Pause, FaultKind.Partition];

    /// <summary>A fault starts this often (faults may overlap: a pause lasts longer than this).</summary>
    public TimeSpan FaultEvery { get; init; } = TimeSpan.FromSeconds(3);

    public TimeSpan RestartAfter { get; init; } = TimeSpan.FromSeconds(2.5);

    public TimeSpan PauseFor { get; init; } = TimeSpan.FromSeconds(4);

    public TimeSpan PartitionFor { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Chance that a fault goes to the current leader rather than a random server.</summary>
    public double LeaderBias { get; init; } = 0.7;

    /// <summary>Registers in use at once; each is retired after <see cref="OpsPerKey"/> operations for a fresh one (keeps each key's history short to check).</summary>
    public int KeysAtOnce { get; init; } = 3;

    public int OpsPerKey { get; init; } = 400;

    /// <summary>Share of operations on locks (sessions with ?acquire / ?release) rather than registers.</summary>
    public double LockShare { get; init; } = 0.2;

    /// <summary>A client gives up on an operation after this long (its outcome is then unknown).</summary>
    public TimeSpan OpTimeout { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>
    /// Self-check of the harness: some reads use <c>?stale</c> (allowed to be stale) but are
    /// recorded as plain reads, so a run with partitions must come out not linearizable.
    /// </summary>
    public bool StaleReads { get; init; }

    /// <summary>Search steps the checker may take on one key before it answers "unknown" (see <see cref="Linearizability.CheckOptions.StepsPerKey"/>).</summary>
    public long CheckSteps { get; init; } = Linearizability.CheckOptions.Default.StepsPerKey;

    /// <summary>Where data directories and the recorded history go (a temporary directory if null).</summary>
    public string? WorkDirectory { get; init; }
}
