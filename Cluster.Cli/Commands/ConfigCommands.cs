using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Agent.Config;

namespace Cluster.Cli.Commands;

/// <summary><c>cluster config write|read|list|delete</c>: centralized configuration entries (service-defaults, proxy-defaults, ...).</summary>
internal static class ConfigCommands
{
    // Consul prints entries with four-space indentation; non-ASCII and HTML characters stay readable.
    private static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true, IndentSize = 4, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IReadOnlyList<Verb> Verbs { get; } =
    [
        new("config", "Interact with centralized configuration entries", null, "Subcommands for centralized configuration entries: write, read, list and delete them."),
        new("config write", "Create or update a centralized config entry", WriteAsync),
        new("config read", "Read a centralized config entry", ReadAsync),
        new("config list", "List centralized config entries of a given kind", ListAsync),
        new("config delete", "Delete a centralized config entry", DeleteAsync),
    ];

    private static async Task<int> WriteAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        var flags = new FlagSet("config write [options] FILE", "Writes the config entry in FILE (HCL or JSON; \"-\" reads stdin).");
        var http = new HttpOptions(flags);
        var cas = flags.Bool("cas", "Check-And-Set: write only if the entry's ModifyIndex is -modify-index (0: only if it does not exist).");
        var modifyIndex = flags.UInt64("modify-index", "The ModifyIndex the entry must have for -cas.");
        if (flags.Parse(args, env, out var positional) is { } exit)
        {
            return exit;
        }

        if (positional.Count != 1)
        {
            return env.Fail("Must provide exactly one positional argument to specify the config entry to write");
        }

        if (CasProblem(cas, modifyIndex) is { } problem)
        {
            return env.Fail(problem);
        }

        JsonObject entry;
        try
        {
            entry = Parse(positional[0], await DataSource.ReadAsync(positional[0], env));
        }
        catch (IOException e)
        {
            return env.Fail($"Failed to load data: {e.Message}");
        }
        catch (ConfigException e)
        {
            return env.Fail($"Failed to decode config entry input: {e.Message}");
        }

        var kind = Field(entry, "Kind");
        var name = Field(entry, "Name");
        if (kind is null)
        {
            return env.Fail("Failed to decode config entry input: Payload does not contain a kind/Kind key at the top level");
        }

        if (!http.TryConnect(env, out var client))
        {
            return 1;
        }

        using (client)
        {
            try
            {
                var response = await client.SendAsync(HttpMethod.Put, "v1/config", CasQuery(cas, modifyIndex), Encoding.UTF8.GetBytes(entry.ToJsonString()));
                if (!response.IsTrue)
                {
                    return env.Fail($"Config entry not updated: {kind}/{name}");
                }
            }
            catch (AgentException e)
            {
                return env.Fail($"Error writing config entry {kind}/{name}: {e.Message}");
            }

            env.Output.WriteLine($"Config entry written: {kind}/{name}");
            return 0;
        }
    }

    private static async Task<int> ReadAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        var flags = new FlagSet("config read -kind KIND -name NAME [options]", "Prints one config entry as JSON.");
        var http = new HttpOptions(flags);
        var kind = KindFlag(flags);
        var name = NameFlag(flags);
        if (flags.Parse(args, env, out var positional) is { } exit)
        {
            return exit;
        }

        if (KindNameProblem(kind, name, positional) is { } problem)
        {
            return env.Fail(problem);
        }

        if (!http.TryConnect(env, out var client))
        {
            return 1;
        }

        using (client)
        {
            try
            {
                var entry = (await client.SendAsync(HttpMethod.Get, EntryPath(kind.Value, name.Value))).Json();
                env.Output.WriteLine(entry?.ToJsonString(Pretty) ?? "null");
                return 0;
            }
            catch (AgentException e)
            {
                return env.Fail($"Error reading config entry {kind.Value}/{name.Value}: {e.Message}");
            }
        }
    }

    private static async Task<int> ListAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        var flags = new FlagSet("config list -kind KIND [options]", "Lists the names of the config entries of one kind, one per line.");
        var http = new HttpOptions(flags);
        var kind = KindFlag(flags);
        var filter = flags.String("filter", "Only entries matching this filter expression.", placeholder: "expression");
        if (flags.Parse(args, env, out var positional) is { } exit)
        {
            return exit;
        }

        if (kind.Value.Length == 0 || positional.Count > 0)
        {
            return env.Fail(kind.Value.Length == 0 ? "Must specify the -kind parameter" : "Should have no non-flag arguments");
        }

        if (!http.TryConnect(env, out var client))
        {
            return 1;
        }

        using (client)
        {
            try
            {
                List<(string, string?)> query = filter.Value.Length > 0 ? [("filter", filter.Value)] : [];
                foreach (var entry in (await client.SendAsync(HttpMethod.Get, "v1/config/" + AgentClient.EscapePath(kind.Value), query)).Json().Items())
                {
                    env.Output.WriteLine(entry.Text("Name"));
                }

                return 0;
            }
            catch (AgentException e)
            {
                return env.Fail($"Error listing config entries for kind \"{kind.Value}\": {e.Message}");
            }
        }
    }

    private static async Task<int> DeleteAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        var flags = new FlagSet("config delete -kind KIND -name NAME [options]", "Deletes one config entry.");
        var http = new HttpOptions(flags);
        var kind = KindFlag(flags);
        var name = NameFlag(flags);
        var cas = flags.Bool("cas", "Check-And-Set: delete only if the entry's ModifyIndex is -modify-index.");
        var modifyIndex = flags.UInt64("modify-index", "The ModifyIndex the entry must have for -cas.");
        if (flags.Parse(args, env, out var positional) is { } exit)
        {
            return exit;
        }

        if ((KindNameProblem(kind, name, positional) ?? CasProblem(cas, modifyIndex)) is { } problem)
        {
            return env.Fail(problem);
        }

        if (!http.TryConnect(env, out var client))
        {
            return 1;
        }

        using (client)
        {
            try
            {
                var response = await client.SendAsync(HttpMethod.Delete, EntryPath(kind.Value, name.Value), CasQuery(cas, modifyIndex));
                if (cas.Value && !response.IsTrue)
                {
                    return env.Fail($"Config entry not deleted: {kind.Value}/{name.Value}");
                }
            }
            catch (AgentException e)
            {
                return env.Fail($"Error deleting config entry {kind.Value}/{name.Value}: {e.Message}");
            }

            env.Output.WriteLine($"Config entry deleted: {kind.Value}/{name.Value}");
            return 0;
        }
    }

    /// <summary>
    /// The entry in a file, HCL or JSON (as Consul, which decodes both with one HCL decoder): a
    /// file whose first thing after comments is "{" is JSON. Keys are sent as written; the agent
    /// accepts Consul's spellings (Kind or kind, snake_case or CamelCase) as Consul's does.
    /// </summary>
    private static JsonObject Parse(string source, byte[] bytes)
    {
        var file = source == "-" ? "<stdin>" : source.TrimStart('@');
        var text = Encoding.UTF8.GetString(bytes).TrimStart('\uFEFF');
        var document = IsJson(text) ? JsonConfigParser.Parse(file, text) : HclParser.Parse(file, text);
        return document.Root;
    }

    // An HCL body starts with a key, never with "{"; comments (#, //, /* */) may come before either.
    private static bool IsJson(string text)
    {
        var at = 0;
        while (at < text.Length)
        {
            if (char.IsWhiteSpace(text[at]))
            {
                at++;
            }
            else if (text[at] == '#' || string.CompareOrdinal(text, at, "//", 0, 2) == 0)
            {
                at = text.IndexOf('\n', at) is >= 0 and var end ? end + 1 : text.Length;
            }
            else if (string.CompareOrdinal(text, at, "/*", 0, 2) == 0)
            {
                at = text.IndexOf("*/", at + 2, StringComparison.Ordinal) is >= 0 and var end ? end + 2 : text.Length;
            }
            else
            {
                return text[at] == '{';
            }
        }

        return false;
    }

    // Kind or kind, Name or name: a string, or null when it is absent or not a string.
    private static string? Field(JsonObject entry, string name) =>
        (entry[name] ?? entry[name.ToLowerInvariant()]) is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private static Flag<string> KindFlag(FlagSet flags) => flags.String("kind", "The kind of the config entry (service-defaults, proxy-defaults, ...).", placeholder: "kind");

    private static Flag<string> NameFlag(FlagSet flags) => flags.String("name", "The name of the config entry.", placeholder: "name");

    private static string EntryPath(string kind, string name) => $"v1/config/{AgentClient.EscapePath(kind)}/{AgentClient.EscapePath(name)}";

    private static string? KindNameProblem(Flag<string> kind, Flag<string> name, IReadOnlyList<string> positional) =>
        kind.Value.Length == 0 ? "Must specify the -kind parameter"
        : name.Value.Length == 0 ? "Must specify the -name parameter"
        : positional.Count > 0 ? "Should have no non-flag arguments"
        : null;

    // An explicit -modify-index=0 is allowed with -cas: at index 0 a CAS means "only if it does not exist".
    private static string? CasProblem(Flag<bool> cas, Flag<ulong> modifyIndex) =>
        cas.Value && !modifyIndex.IsSet ? "Must specify a -modify-index with -cas"
        : modifyIndex.IsSet && !cas.Value ? "Cannot specify -modify-index without -cas"
        : null;

    private static List<(string, string?)> CasQuery(Flag<bool> cas, Flag<ulong> modifyIndex) =>
        cas.Value ? [("cas", modifyIndex.Value.ToString(CultureInfo.InvariantCulture))] : [];
}
