namespace Cluster.Agent.Checks;

/// <summary>
/// Where alias checks read the health they mirror: the agent's own state for the local node,
/// blocking catalog queries for another. A blocking watch, so an alias reacts at once.
/// </summary>
public interface IAliasSource
{
    /// <summary>
    /// The checks of <paramref name="target"/>'s node that bear on it (node-level checks and,
    /// for a service, that service's checks), once their version differs from
    /// <paramref name="sinceVersion"/> (0 answers at once). May also answer unchanged when a
    /// wait of its own runs out; it should not answer unchanged at once, or the caller spins.
    /// </summary>
    Task<AliasSnapshot> WaitAsync(AliasTarget target, long sinceVersion, CancellationToken cancellationToken);
}
