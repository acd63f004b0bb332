using System.Diagnostics;
using System.Globalization;

namespace Cluster.Testing.Linearizability;

/// <summary>How long the checker may search, and how widely.</summary>
public sealed record CheckOptions
{
    public static CheckOptions Default { get; } = new();

    /// <summary>
    /// The search steps allowed per key; past them the key's verdict is <see cref="Verdict.Unknown"/>.
    /// Counted in steps, not seconds, so a verdict never depends on how busy the machine is. The
    /// densest simulated history takes under a million (scripts/bench-checker: about 2 µs a step).
    /// </summary>
    public long StepsPerKey { get; init; } = 50_000_000;

    /// <summary>The steps allowed per failing key to narrow its failure window; past them the whole failing segment is reported.</summary>
    public long NarrowingStepsPerKey { get; init; } = 50_000_000;

    /// <summary>Keys checked at once.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;
}

/// <summary>
/// Decides whether a recorded history is linearizable with respect to a model, key by key (a history
/// is linearizable iff each key's sub-history is). Sound both ways: when a search runs out of time the
/// verdict is <see cref="Verdict.Unknown"/>, never a pass.
/// </summary>
public static class LinearizabilityChecker
{
    public static CheckResult Check<TState>(
        History history, IModel<TState> model, CheckOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(model);
        options ??= CheckOptions.Default;
        var clock = Stopwatch.StartNew();
        var byKey = history.GroupBy(o => o.Key).ToDictionary(g => g.Key, g => g.ToList());
        var keys = history.Keys;
        var results = new KeyResult[keys.Count];
        Parallel.For(
            0,
            keys.Count,
            new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism, CancellationToken = cancellation },
            i => results[i] = CheckKey(keys[i], byKey[keys[i]], model, options, cancellation));
        return new CheckResult(CheckResult.Combine(results.Select(r => r.Verdict)), results, clock.Elapsed);
    }

    /// <summary>Checks the operations of one key (all of them must be on <paramref name="key"/>).</summary>
    public static KeyResult CheckKey<TState>(
        string key, IReadOnlyList<Operation> operations, IModel<TState> model, CheckOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(operations);
        ArgumentNullException.ThrowIfNull(model);
        options ??= CheckOptions.Default;
        var clock = Stopwatch.StartNew();
        if (operations.FirstOrDefault(o => o.Key != key) is { } stray)
        {
            throw new ArgumentException($"operation {stray.Id} is on key {stray.Key}, not {key}", nameof(operations));
        }

        // Failed operations had no effect, and a read of unknown outcome neither changed nor told anything.
        var ops = operations
            .Where(o => o.Status != OpStatus.Failed && !(o.Status == OpStatus.Unknown && o.Kind == OpKind.Read))
            .Select(SearchOp.Of)
            .ToList();
        var budget = new Budget(options.StepsPerKey, cancellation);
        var outcome = new KeySearch<TState>(model, ops, budget).Run();
        switch (outcome.Status)
        {
            case SearchStatus.Linearizable:
                return Result(Verdict.Linearizable, "every operation fits one legal order");
            case SearchStatus.OutOfSteps:
                return Result(Verdict.Unknown, string.Create(CultureInfo.InvariantCulture,
                    $"the search ran out of its budget of {options.StepsPerKey:N0} steps in segment {outcome.Searched + 1} of {outcome.Segments}"));
            default:
                var failure = outcome.Failure!;
                var window = WindowFinder.Find(key, model, ops, failure, new Budget(options.NarrowingStepsPerKey, cancellation));
                return Result(Verdict.NotLinearizable, string.Create(CultureInfo.InvariantCulture,
                    $"segment {failure.Index + 1} of {outcome.Segments} has no legal order from any state possible before it"), window);
        }

        KeyResult Result(Verdict verdict, string message, FailureWindow? window = null) =>
            new(key, verdict, operations.Count, ops.Count, outcome.Segments, outcome.MaxConfigurations, clock.Elapsed, message, window) { Steps = budget.Used };
    }
}
