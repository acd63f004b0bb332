namespace Cluster.Agent.Config;

/// <summary>Where a setting's value came from, so a value that fails a check is blamed on its source.</summary>
internal readonly record struct Origin(SourcePosition? Position, string? Flag)
{
    /// <summary>Nobody set it: it is a default.</summary>
    public static Origin Default => default;

    public static Origin At(SourcePosition position) => new(position, null);

    public static Origin OfFlag(string flag) => new(null, flag);

    public AgentConfigException Error(string problem) =>
        Position is { } at ? new ConfigException(at, problem)
        : Flag is not null ? new AgentConfigException($"flag -{Flag}: {problem}")
        : new AgentConfigException(problem);
}
