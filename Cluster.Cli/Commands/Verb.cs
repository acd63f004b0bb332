namespace Cluster.Cli.Commands;

/// <summary>Runs one command with the arguments after its name; returns the exit code.</summary>
internal delegate Task<int> VerbHandler(IReadOnlyList<string> args, CliEnvironment env);

/// <summary>
/// A command by the words users type (<c>kv put</c>, <c>operator raft list-peers</c>). One
/// without a handler is a group: it only lists its subcommands, with its description.
/// </summary>
internal sealed record Verb(string Name, string Synopsis, VerbHandler? Run, string Description = "");
