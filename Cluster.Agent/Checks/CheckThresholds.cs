namespace Cluster.Agent.Checks;

/// <summary>
/// Consul's <c>success_before_passing</c>, <c>failures_before_warning</c> and
/// <c>failures_before_critical</c>: counts of consecutive results. A result is published only
/// once its count reaches the threshold; until then the check keeps its previous status (and
/// output). Failures that reach the warning threshold but not the critical one publish warning.
/// </summary>
internal sealed class CheckThresholds(int successBeforePassing, int failuresBeforeWarning, int failuresBeforeCritical)
{
    private int _successes;
    private int _failures;

    /// <summary>The result to publish, or null to keep the previous one.</summary>
    public CheckResult? Apply(CheckResult result)
    {
        if (CheckStatus.IsSuccess(result.Status))
        {
            _failures = 0;
            _successes = Increment(_successes);
            return _successes >= successBeforePassing ? result : null;
        }

        _successes = 0;
        _failures = Increment(_failures);
        if (_failures >= failuresBeforeCritical)
        {
            return result;
        }

        return _failures >= failuresBeforeWarning ? result with { Status = CheckStatus.Warning } : null;
    }

    // Saturates: a check that has passed for years must not wrap around below its threshold.
    private static int Increment(int count) => count == int.MaxValue ? count : count + 1;
}
