namespace Cluster.Agent.Checks;

/// <summary>
/// One kind of check's single run (an HTTP request, a TCP connect, a script...). The monitor
/// schedules runs and applies thresholds; a probe only looks once.
/// </summary>
public interface ICheckProbe : IDisposable
{
    /// <summary>
    /// Runs once. The token is cancelled when the run's timeout passes or the monitor stops; a
    /// probe that sees it should give up and report the timeout in its own words.
    /// </summary>
    Task<CheckResult> RunAsync(CancellationToken cancellationToken);
}
