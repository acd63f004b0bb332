using System.Diagnostics;

namespace Cluster.Testing.Linearizability;

/// <summary>A search's time limit: checked every few hundred steps, since reading the clock per node costs more than the node.</summary>
internal sealed class Budget
{
    private const int StepsPerLook = 256;

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TimeSpan _limit;
    private readonly CancellationToken _cancellation;
    private int _steps;

    public Budget(TimeSpan limit, CancellationToken cancellation)
    {
        _limit = limit;
        _cancellation = cancellation;
    }

    public TimeSpan Limit => _limit;

    /// <exception cref="BudgetExhaustedException">The limit has passed.</exception>
    public void Step()
    {
        if (_steps++ % StepsPerLook != 0)
        {
            return;
        }

        _cancellation.ThrowIfCancellationRequested();
        if (_clock.Elapsed >= _limit)
        {
            throw new BudgetExhaustedException();
        }
    }
}

/// <summary>Unwinds a search whose <see cref="Budget"/> ran out.</summary>
internal sealed class BudgetExhaustedException : Exception
{
    public BudgetExhaustedException()
        : base("the search ran out of its time budget")
    {
    }

    public BudgetExhaustedException(string message)
        : base(message)
    {
    }

    public BudgetExhaustedException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
