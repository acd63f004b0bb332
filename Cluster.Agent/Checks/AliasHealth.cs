namespace Cluster.Agent.Checks;

/// <summary>
/// Consul's alias rule: critical if any aliased check is critical, else warning if any is
/// warning, else passing — "No checks found." too, but a service that is not registered at all
/// is critical (Consul 1.7+). A service alias counts the node's own checks as well: a service
/// on a failing node is failing.
/// </summary>
internal static class AliasHealth
{
    public static CheckResult Evaluate(AliasTarget target, AliasSnapshot snapshot, string ownCheckId)
    {
        if (target.ServiceId is { } service && !snapshot.ServiceExists)
        {
            return CheckResult.Critical($"Service {service} could not be found on node {target.Node ?? "(local)"}");
        }

        var result = CheckResult.Passing("No checks found.");
        foreach (var check in snapshot.Checks)
        {
            var relevant = check.ServiceId.Length == 0 || string.Equals(check.ServiceId, target.ServiceId, StringComparison.Ordinal);
            // An alias registered on the very thing it aliases must not follow itself.
            if (!relevant || (target.Node is null && string.Equals(check.CheckId, ownCheckId, StringComparison.Ordinal)))
            {
                continue;
            }

            switch (check.Status)
            {
                case CheckStatus.Critical:
                    return CheckResult.Critical($"Aliased check \"{check.Name}\" failing: {check.Output}");
                case CheckStatus.Warning when result.Status == CheckStatus.Passing:
                    result = CheckResult.Warning($"Aliased check \"{check.Name}\" failing: {check.Output}");
                    break;
                case CheckStatus.Passing when result.Status == CheckStatus.Passing:
                    result = CheckResult.Passing("All checks passing.");
                    break;
            }
        }

        return result;
    }
}
