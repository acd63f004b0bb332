namespace Cluster.Agent.Checks;

/// <summary>What one run of a probe found.</summary>
public sealed record CheckResult(string Status, string Output)
{
    public static CheckResult Passing(string output) => new(CheckStatus.Passing, output);

    public static CheckResult Warning(string output) => new(CheckStatus.Warning, output);

    public static CheckResult Critical(string output) => new(CheckStatus.Critical, output);
}
