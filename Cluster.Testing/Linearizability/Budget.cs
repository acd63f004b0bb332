namespace Cluster.Testing.Linearizability;

/// <summary>
/// A search's limit, in search steps rather than seconds, so a verdict is a function of the history
/// alone: the same history gets the same answer on a quiet machine and a loaded one.
/// </summary>
internal sealed class Budget(long limit, CancellationToken cancellation)
{
    private const int StepsPerCancellationLook = 4096;

    public long Limit => limit;

    /// <summary>Steps taken so far.</summary>
    public long Used { get; private set; }

    /// <exception cref="BudgetExhaustedException">The limit has been reached.</exception>
    public void Step()
    {
        if (++Used > limit)
        {
            throw new BudgetExhaustedException();
        }

        if (Used % StepsPerCancellationLook == 0)
        {
            cancellation.ThrowIfCancellationRequested();
        }
    }
}

/// <summary>Unwinds a search whose <see cref="Budget"/> ran out.</summary>
internal sealed class BudgetExhaustedException : Exception
{
    public BudgetExhaustedException()
        : base("the search ran out of its step budget")
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
