namespace Cluster.Testing.Linearizability;

/// <summary>
/// Narrows a failing segment to the smallest window that fails on its own, and proves it does.
/// </summary>
/// <remarks>
/// Window(T) holds the segment's operations called by time T; those returning after T become optional
/// (they may or may not have taken effect by T). Any legal order of the whole segment, cut before its
/// first operation called after T, is a legal order of window(T); so a failing window(T) is a real
/// failure, and failing is monotone in T. A binary search over the segment's return times finds the
/// least T; window(T) is then cut at its own quiescent points (operations pending past T no longer
/// block them), and its failing part, with the configurations possible before it, is the report. A
/// separate search from exactly the reported states confirms it.
/// </remarks>
internal static class WindowFinder
{
    public static FailureWindow Find<TState>(
        string key, IModel<TState> model, IReadOnlyList<SearchOp> ops, FailedSegment<TState> failure, Budget budget)
    {
        // Optional operations that may take effect in the segment.
        var pool = ops.Where(o => o.Optional && o.Call <= failure.EndTime && failure.MayStillTakeEffect(o.Id)).ToList();
        try
        {
            return Narrow(key, model, failure, pool, budget)
                ?? Whole(key, model, failure, pool, "narrowing disagreed with the search; this is the whole failing segment");
        }
        catch (BudgetExhaustedException)
        {
            return Whole(key, model, failure, pool, "narrowing ran out of its step budget; this is the whole failing segment");
        }
    }

    private static FailureWindow? Narrow<TState>(
        string key, IModel<TState> model, FailedSegment<TState> failure, List<SearchOp> pool, Budget budget)
    {
        var returns = failure.Required.Select(o => o.Return).Distinct().Order().ToArray();
        var lo = 0;
        var hi = returns.Length - 1;
        var failing = Search(model, Window(failure, pool, returns[hi]), failure.Start, budget);
        if (failing.Status != SearchStatus.NotLinearizable)
        {
            return null;
        }

        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            var outcome = Search(model, Window(failure, pool, returns[mid]), failure.Start, budget);
            if (outcome.Status == SearchStatus.NotLinearizable)
            {
                (hi, failing) = (mid, outcome);
            }
            else
            {
                lo = mid + 1;
            }
        }

        var until = returns[hi];
        var window = Window(failure, pool, until);
        var part = failing.Failure!;
        var (start, end) = (part.StartTime, part.EndTime);
        var optional = window.Where(o => o.Optional && o.Call <= end).ToList();
        var confirm = Search(model, [.. part.Required, .. optional], part.Start, budget);
        if (confirm.Status != SearchStatus.NotLinearizable)
        {
            return null;
        }

        var shown = part.Required.Concat(optional.Where(o => o.Call >= start));
        var pending = optional.Where(o => o.Call < start && part.MayStillTakeEffect(o.Id));
        var blocking = part.Required.FirstOrDefault(o => o.Return == until)?.Source;
        return new FailureWindow(
            key, States(model, part.Start), Sources(shown), blocking, Sources(pending), start, Note: null);
    }

    /// <summary>The whole failing segment, which the main search already proved fails from its start.</summary>
    private static FailureWindow Whole<TState>(
        string key, IModel<TState> model, FailedSegment<TState> failure, List<SearchOp> pool, string note)
    {
        var start = failure.StartTime;
        var shown = failure.Required.Concat(pool.Where(o => o.Call >= start));
        var pending = pool.Where(o => o.Call < start);
        return new FailureWindow(key, States(model, failure.Start), Sources(shown), null, Sources(pending), start, note);
    }

    /// <summary>The segment's operations called by <paramref name="until"/>; those still running then are optional.</summary>
    private static List<SearchOp> Window<TState>(FailedSegment<TState> failure, List<SearchOp> pool, long until) =>
    [
        .. failure.Required.Where(o => o.Call <= until).Select(o => o.Return > until ? o with { Optional = true } : o),
        .. pool.Where(o => o.Call <= until),
    ];

    private static SearchOutcome<TState> Search<TState>(
        IModel<TState> model, List<SearchOp> ops, IReadOnlyList<StartConfig<TState>> start, Budget budget)
    {
        var outcome = new KeySearch<TState>(model, ops, budget).Run(start);
        return outcome.Status == SearchStatus.OutOfSteps ? throw new BudgetExhaustedException() : outcome;
    }

    private static List<string> States<TState>(IModel<TState> model, IReadOnlyList<StartConfig<TState>> configs) =>
        [.. configs.Select(c => model.Describe(c.State)).Distinct()];

    private static List<Operation> Sources(IEnumerable<SearchOp> ops) =>
        [.. ops.OrderBy(o => o.Call).ThenBy(o => o.Id).Select(o => o.Source)];
}
