namespace Cluster.Testing.Linearizability;

/// <summary>
/// An operation as the search sees it. <see cref="Effect"/> is what the model steps on: an operation
/// of unknown outcome is stepped as if it succeeded, since failing would have left the state alone,
/// which is the same as not linearizing it at all. Optional operations return at +infinity.
/// </summary>
internal sealed record SearchOp(Operation Source, Operation Effect, bool Optional)
{
    public long Call => Source.Call;

    public long Return => Optional ? long.MaxValue : Source.Return;

    public int Id => Source.Id;

    public static SearchOp Of(Operation op) => op.Status == OpStatus.Unknown
        ? new SearchOp(op, op with { Succeeded = true }, Optional: true)
        : new SearchOp(op, op, Optional: false);
}

/// <summary>A configuration handed into or out of a search: a state, and the optional operations (by id) already linearized.</summary>
internal sealed record StartConfig<TState>(TState State, IReadOnlySet<int> Consumed);

internal enum SearchStatus
{
    Linearizable,
    NotLinearizable,
    OutOfSteps,
}

/// <summary>How a search over one key ended.</summary>
/// <param name="Status">Its conclusion.</param>
/// <param name="Segments">The segments the key's history has.</param>
/// <param name="Searched">The segments searched to the end.</param>
/// <param name="MaxConfigurations">The most configurations carried into a segment.</param>
/// <param name="Failure">For <see cref="SearchStatus.NotLinearizable"/>: the segment with no legal order.</param>
internal sealed record SearchOutcome<TState>(
    SearchStatus Status, int Segments, int Searched, int MaxConfigurations, FailedSegment<TState>? Failure);

/// <summary>A segment that has no legal order from any of its start configurations.</summary>
internal sealed record FailedSegment<TState>(
    int Index, IReadOnlyList<SearchOp> Required, IReadOnlyList<StartConfig<TState>> Start)
{
    public long StartTime => Required.Min(o => o.Call);

    public long EndTime => Required.Max(o => o.Return);

    /// <summary>True when no start configuration has linearized the optional operation <paramref name="id"/>.</summary>
    public bool MayStillTakeEffect(int id) => Start.Any(c => !c.Consumed.Contains(id));
}
