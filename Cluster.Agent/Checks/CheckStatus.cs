namespace Cluster.Agent.Checks;

/// <summary>Consul's check statuses, as they appear in the API and the catalog.</summary>
public static class CheckStatus
{
    public const string Passing = "passing";
    public const string Warning = "warning";
    public const string Critical = "critical";

    /// <summary>Passing and warning both count as success toward <c>success_before_passing</c>, as in Consul.</summary>
    public static bool IsSuccess(string status) => status is Passing or Warning;
}
