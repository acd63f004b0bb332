using Cluster.Cli.Commands;
using Cluster.Gossip.Security;

namespace Cluster.Cli;

/// <summary>
/// Dispatches `cluster VERB [SUBVERB...] [flags]` as Consul's CLI does: the longest run of
/// leading words that names a command picks it; usage on stderr and exit code 1 for anything
/// it does not know.
/// </summary>
public static class CommandLine
{
    private static readonly Dictionary<string, Verb> Verbs = AllVerbs().ToDictionary(v => v.Name, StringComparer.Ordinal);

    private static readonly int LongestName = Verbs.Keys.Max(n => n.Split(' ').Length);

    /// <summary>Runs a command against the process's stdin and environment variables.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error) =>
        RunAsync(args, new CliEnvironment(output, error, Console.OpenStandardInput(), Environment.GetEnvironmentVariable)).GetAwaiter().GetResult();

    public static async Task<int> RunAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(env);
        if (args.Count == 0 || IsHelp(args[0]) || args[0] == "help")
        {
            Usage(args.Count == 0 ? env.Error : env.Output);
            return args.Count == 0 ? 1 : 0;
        }

        for (var words = Math.Min(args.Count, LongestName); words > 0; words--)
        {
            if (Verbs.TryGetValue(string.Join(' ', args.Take(words)), out var verb))
            {
                var rest = args.Skip(words).ToList();
                return verb.Run is { } run ? await run(rest, env) : Group(verb, rest, env);
            }
        }

        env.Error.WriteLine($"cluster: unknown command \"{args[0]}\"");
        Usage(env.Error);
        return 1;
    }

    private static IEnumerable<Verb> AllVerbs() =>
    [
        new("agent", "Runs an agent (-dev for a single in-memory server)", (args, env) => Task.FromResult(AgentCommand.Run([.. args], env.Output, env.Error))),
        new("keygen", "Generates a new gossip encryption key (32 bytes, base64)", KeygenAsync),
        .. KvCommands.Verbs,
        .. CatalogCommands.Verbs,
        MembersCommand.Verb,
        .. OperatorCommands.Verbs,
        .. ConfigCommands.Verbs,
        .. IntentionCommands.Verbs,
        .. ConnectCaCommands.Verbs,
    ];

    private static bool IsHelp(string arg) => arg is "-h" or "-help" or "--help";

    private static void Usage(TextWriter writer)
    {
        writer.WriteLine("Usage: cluster <command> [args]");
        writer.WriteLine();
        writer.WriteLine("Available commands are:");
        foreach (var verb in Verbs.Values.Where(v => !v.Name.Contains(' ', StringComparison.Ordinal)).OrderBy(v => v.Name, StringComparer.Ordinal))
        {
            writer.WriteLine($"    {verb.Name,-10} {verb.Synopsis}");
        }
    }

    // A group alone (`cluster kv`) lists its subcommands: exit 0 when asked for with -h, else 1 as Consul does.
    private static int Group(Verb group, List<string> args, CliEnvironment env)
    {
        var asked = args.Count > 0 && IsHelp(args[0]);
        var writer = asked ? env.Output : env.Error;
        if (args.Count > 0 && !asked)
        {
            writer.WriteLine($"cluster {group.Name}: unknown subcommand \"{args[0]}\"");
        }

        var children = Verbs.Values
            .Where(v => v.Name.StartsWith(group.Name + " ", StringComparison.Ordinal) && !v.Name[(group.Name.Length + 1)..].Contains(' ', StringComparison.Ordinal))
            .OrderBy(v => v.Name, StringComparer.Ordinal)
            .Select(v => (Name: v.Name[(group.Name.Length + 1)..], v.Synopsis))
            .ToList();
        var width = children.Max(c => c.Name.Length);
        writer.WriteLine($"Usage: cluster {group.Name} <subcommand> [options] [args]");
        writer.WriteLine();
        writer.WriteLine($"  {group.Description}");
        writer.WriteLine();
        writer.WriteLine("Subcommands:");
        foreach (var (name, synopsis) in children)
        {
            writer.WriteLine($"    {name.PadRight(width)}    {synopsis}");
        }

        return asked ? 0 : 1;
    }

    private static Task<int> KeygenAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        if (args.Count > 0)
        {
            return Task.FromResult(env.Fail($"cluster keygen: this command takes no arguments (got \"{string.Join(' ', args)}\")"));
        }

        env.Output.WriteLine(Keyring.GenerateKey());
        return Task.FromResult(0);
    }
}
