namespace Cluster.Agent.Config;

/// <summary>A configuration file that cannot be used, with where: "file:line:column: what".</summary>
public sealed class ConfigException(string file, int line, int column, string problem)
    : AgentConfigException($"{file}:{line}:{column}: {problem}")
{
    public ConfigException(SourcePosition at, string problem)
        : this(at.File, at.Line, at.Column, problem)
    {
    }

    public string File { get; } = file;

    public int Line { get; } = line;

    public int Column { get; } = column;

    public string Problem { get; } = problem;
}
