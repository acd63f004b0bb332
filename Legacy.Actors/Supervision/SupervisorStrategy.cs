namespace Legacy.Actors.Supervision;

/// <summary>
/// How a parent treats a failing child (one-for-one). Restarts back off exponentially:
/// the n-th consecutive failure waits <c>min(MaxBackoff, MinBackoff * 2^(n-1))</c>, spread by
/// up to <see cref="RandomFactor"/>; a child that ran <see cref="ResetAfter"/> without failing
/// starts again from <see cref="MinBackoff"/>. A crash-looping child therefore costs little
/// and recovers on its own once the cause goes away.
/// </summary>
public sealed record SupervisorStrategy
{
    /// <summary>Restart on any exception, 10 ms doubling up to 10 s, no restart limit.</summary>
    public static SupervisorStrategy Default { get; } = new();

    /// <summary>Stop on any exception.</summary>
    public static SupervisorStrategy StoppingStrategy { get; } = new() { Decider = static _ => Directive.Stop };

    public Func<Exception, Directive> Decider { get; init; } = static _ => Directive.Restart;

    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(10);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>0 for exact delays; 0.2 spreads each delay up to 20% longer (seeded randomness).</summary>
    public double RandomFactor { get; init; }

    public TimeSpan ResetAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Consecutive failures (within <see cref="ResetAfter"/> of each other) after which the child is stopped; null for no limit.</summary>
    public int? MaxRestarts { get; init; }

    /// <summary>The delay before the restart that follows the <paramref name="failures"/>-th consecutive failure.</summary>
    public TimeSpan BackoffFor(int failures, double random01)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failures, 1);
        var exponent = Math.Min(failures - 1, 30);
        var ticks = Math.Min(MaxBackoff.Ticks, MinBackoff.Ticks * Math.Pow(2, exponent));
        return TimeSpan.FromTicks((long)(ticks * (1 + (RandomFactor * random01))));
    }
}
