namespace Cluster.Cli;

/// <summary>
/// What a command may touch of the world it runs in: its three standard streams and the
/// environment variables (CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN). Tests pass their own, so they
/// run commands in-process, in parallel, without changing the process's environment.
/// </summary>
public sealed record CliEnvironment(TextWriter Output, TextWriter Error, Stream Input, Func<string, string?> Variable)
{
    /// <summary>The process's own console and environment.</summary>
    public static CliEnvironment Process() =>
        new(Console.Out, Console.Error, Console.OpenStandardInput(), Environment.GetEnvironmentVariable);

    /// <summary>Reports a failure on stderr; returns exit code 1.</summary>
    internal int Fail(string message)
    {
        Error.WriteLine(message);
        return 1;
    }
}
