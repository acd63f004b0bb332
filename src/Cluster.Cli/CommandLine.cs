using Cluster.Gossip.Security;

namespace Cluster.Cli;

/// <summary>Dispatches `cluster VERB [flags]` as Consul's CLI does: usage on stderr and exit code 1 for anything it does not know.</summary>
public static class CommandLine
{
    private static readonly Dictionary<string, (string Synopsis, Func<string[], TextWriter, TextWriter, int> Run)> Commands = new(StringComparer.Ordinal)
    {
        ["agent"] = ("Runs an agent (-dev for a single in-memory server)", AgentCommand.Run),
        ["keygen"] = ("Generates a new gossip encryption key (32 bytes, base64)", Keygen),
    };

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args.Length == 0 || args[0] is "-h" or "-help" or "--help" or "help")
        {
            Usage(args.Length == 0 ? error : output);
            return args.Length == 0 ? 1 : 0;
        }

        if (!Commands.TryGetValue(args[0], out var command))
        {
            error.WriteLine($"cluster: unknown command \"{args[0]}\"");
            Usage(error);
            return 1;
        }

        return command.Run(args[1..], output, error);
    }

    private static void Usage(TextWriter writer)
    {
        writer.WriteLine("Usage: cluster <command> [args]");
        writer.WriteLine();
        writer.WriteLine("Available commands are:");
        foreach (var (name, command) in Commands.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            writer.WriteLine($"    {name,-10} {command.Synopsis}");
        }
    }

    private static int Keygen(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length > 0)
        {
            error.WriteLine($"cluster keygen: this command takes no arguments (got \"{string.Join(' ', args)}\")");
            return 1;
        }

        output.WriteLine(Keyring.GenerateKey());
        return 0;
    }
}
