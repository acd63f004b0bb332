using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cluster.Cli.Commands;

/// <summary>
/// <c>cluster intention create|get|check|list|delete|match</c>: Consul's intention commands, with
/// its flags, messages, tables and exit codes (<c>check</c>: 0 allowed, 1 denied, 2 an error;
/// <c>list</c>: 2 when there are none).
/// </summary>
internal static class IntentionCommands
{
    // Consul prints permissions with json.MarshalIndent(…, "", "  ").
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, IndentSize = 2, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IReadOnlyList<Verb> Verbs { get; } =
    [
        new("intention", "Interact with Connect service intentions", null, "Subcommands for intentions, which allow or deny connections between services:\ncreate, get, check, list, delete and match them."),
        new("intention create", "Create intentions for service connections.", CreateAsync),
        new("intention get", "Show information about an intention.", GetAsync),
        new("intention check", "Check whether a connection between two services is allowed.", CheckAsync),
        new("intention list", "List intentions.", ListAsync),
        new("intention delete", "Delete an intention.", DeleteAsync),
        new("intention match", "Show intentions that match a source or destination.", MatchAsync),
    ];

    private static async Task<int> CreateAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        var flags = new FlagSet(
            "intention create [options] SRC DST\nUsage: cluster intention create [options] -file FILE...",
            "Creates one intention from SRC to DST, or one from each FILE (JSON; \"-\" reads stdin) with -file.\nAn \"allow\" intention is created by default; -deny creates a \"deny\" one. Creation fails if the\nintention exists, unless -replace is given: then it replaces that intention.");
        var http = new HttpOptions(flags);
        var allow = flags.Bool("allow", "Create an intention that allows when matched.");
        var deny = flags.Bool("deny", "Create an intention that denies when matched.");
        var file = flags.Bool("file", "Read intention data from one or more files.");
        var replace = flags.Bool("replace", "Replace matching intentions.");
        var meta = flags.Repeated("meta", "Metadata to set on the intention, formatted as key=value. May be given more than once.", "key=value", text => text.Contains('=', StringComparison.Ordinal));
        if (flags.Parse(args, env, out var positional) is { } exit)
        {
            return exit;
        }

        if (allow.Value && deny.Value)
        {
            return env.Fail("Only one of -allow or -deny may be specified.");
        }

        List<JsonObject> intentions;
        try
        {
            intentions = file.Value ? await FromFilesAsync(positional, env) : [FromArgs(positional, deny.Value ? "deny" : "allow", meta.Value)];
        }
        catch (Exception e) when (e is IOException or FormatException)
        {
            return env.Fail($"Error: {e.Message}");
        }

        if (!http.TryConnect(env, out var client))
        {
            return 1;
        }

        using (client)
        {
            foreach (var intention in intentions)
            {
                var (source, destination) = (FormatSide(intention, "Source"), FormatSide(intention, "Destination"));
                if (replace.Value)
                {
                    JsonNode? existing;
                    try
                    {
                        existing = (await client.SendAsync(HttpMethod.Get, "v1/connect/intentions/exact", [("destination", destination), ("source", source)], notFoundIsAnswer: true)) is { IsNotFound: false } found ? found.Json() : null;
                    }
                    catch (AgentException e)
                    {
                        return env.Fail($"Error looking up intention for replacement with source \"{source}\" and destination \"{destination}\": {e.Message}");
                    }

                    if (existing is not null)
                    {
                        try
                        {
                            // A legacy intention is replaced through its ID, as Consul's CLI does; one written by name, by name.
                            var id = existing.Text("ID");
                            await (id.Length > 0
                                ? client.SendAsync(HttpMethod.Put, $"v1/connect/intentions/{AgentClient.EscapePath(id)}", body: Bytes(WithId(intention, id)))
                                : client.SendAsync(HttpMethod.Put, "v1/connect/intentions/exact", [("destination", destination), ("source", source)], Bytes(ForUpsert(intention))));
                        }
                        catch (AgentException e)
                        {
                            return env.Fail($"Error replacing intention with source \"{source}\" and destination \"{destination}\": {e.Message}");
                        }

                        // Consul says nothing about a replacement.
                        continue;
                    }
                }

                try
                {
                    await client.SendAsync(HttpMethod.Post, "v1/connect/intentions", body: Bytes(intention));
                }
                catch (AgentException e)
                {
                    return env.Fail($"Error creating intention \"{Describe(intention)}\": {e.Message}");
                }

                env.Output.WriteLine($"Created: {Describe(intention)}");
            }

            return 0;
        }
    }

    private static async Task<int> GetAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        var flags = new FlagSet("intention get [options] SRC DST\nUsage: cluster intention get [options] ID", "Shows one intention, found by source and destination or by its ID.");
        var http = new HttpOptions(flags);
        if (flags.Parse(args, env, out var positional) is { } exit)
        {
            return exit;
        }

        if (!http.TryConnect(env, out var client))
        {
            return 1;
        }

        using (client)
        {
            JsonNode intention;
            try
            {
                var found = await FindAsync(client, positional);
                if (found.Problem is { } problem)
                {
                    return env.Fail(problem);
                }

                intention = found.Intention!;
            }
            catch (AgentException e)
            {
                return env.Fail($"Error reading the intention: {e.Message}");
            }

            List<IReadOnlyList<string>> rows = [["Source:", Side(intention, "Source")], ["Destination:", Side(intention, "Destination")]];
            foreach (var (label, field) in new[] { ("Action:", "Action"), ("ID:", "ID"), ("Description:", "Description") })
            {
                if (intention.Text(field) is { Length: > 0 } value)
                {
                    rows.Add([label, value]);
                }
            }

            rows.AddRange(intention.Map("Meta").Select(p => (IReadOnlyList<string>)[$"Meta[{p.Key}]:", p.Value]));
            rows.Add(["Created At:", CreatedAt(intention.Text("CreatedAt"))]);
            env.Output.WriteLine(Table.Columnize(rows));
            if ((intention as JsonObject)?["Permissions"] is JsonArray { Count: > 0 } permissions)
            {
                env.Output.WriteLine("Permissions:\n" + permissions.ToJsonString(Indented));
            }

            return 0;
        }
    }

    private static async Task<int> CheckAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        var flags = new FlagSet("intention check [options] SRC DST", "Checks whether a connection from SRC to DST would be allowed now.\nExit code 0: allowed; 1: denied; 2: the check could not be made.");
        var http = new HttpOptions(flags);

        // Consul's check exits 2 for every error, flag errors included: 1 means "denied".
        if (flags.Parse(args, env, out var positional) is { } exit)
        {
            return exit == 0 ? 0 : 2;
        }

        if (positional.Count != 2)
        {
            env.Error.WriteLine("Error: command requires exactly two arguments: src and dst");
            return 2;
        }

        if (!http.TryConnect(env, out var client))
        {
            return 2;
        }

        using (client)
        {
            bool allowed;
            try
            {
                // Go's url.Values encodes its keys sorted.
                var answer = await client.SendAsync(HttpMethod.Get, "v1/connect/intentions/check", [("destination", positional[1]), ("source", positional[0]), ("source-type", "consul")]);
                allowed = answer.Json().Flag("Allowed");
            }
            catch (Exception e) when (e is AgentException or JsonException)
            {
                env.Error.WriteLine($"Error checking the connection: {e.Message}");
                return 2;
            }

            env.Output.WriteLine(allowed ? "Allowed" : "Denied");
            return allowed ? 0 : 1;
        }
    }

    private static async Task<int> ListAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        var flags = new FlagSet("intention list [options]", "Lists every intention, in evaluation order. Exit code 2 when there are none.");
        var http = new HttpOptions(flags);
        if (flags.Parse(args, env, out _) is { } exit)
        {
            return exit;
        }

        if (!http.TryConnect(env, out var client))
        {
            return 1;
        }

        using (client)
        {
            List<JsonNode?> intentions;
            try
            {
                intentions = [.. (await client.SendAsync(HttpMethod.Get, "v1/connect/intentions")).Json().Items()];
            }
            catch (Exception e) when (e is AgentException or JsonException)
            {
                return env.Fail($"Failed to retrieve the intentions list: {e.Message}");
            }

            if (intentions.Count == 0)
            {
                env.Error.WriteLine("There are no intentions.");
                return 2;
            }

            IEnumerable<IReadOnlyList<string>> rows =
            [
                ["ID", "Source", "Action", "Destination", "Precedence"],
                .. intentions.Select(i => (IReadOnlyList<string>)[i.Text("ID"), i.Text("SourceName"), i.Text("Action"), i.Text("DestinationName"), i.Text("Precedence")]),
            ];
            env.Output.WriteLine(Table.Columnize(rows));
            return 0;
        }
    }

    private static async Task<int> DeleteAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        var flags = new FlagSet("intention delete [options] SRC DST\nUsage: cluster intention delete [options] ID", "Deletes one intention, found by source and destination or by its ID. This cannot be undone.");
        var http = new HttpOptions(flags);
        if (flags.Parse(args, env, out var positional) is { } exit)
        {
            return exit;
        }

        if (!http.TryConnect(env, out var client))
        {
            return 1;
        }

        using (client)
        {
            try
            {
                switch (positional.Count)
                {
                    case 1:
                        await client.SendAsync(HttpMethod.Delete, $"v1/connect/intentions/{AgentClient.EscapePath(positional[0])}");
                        break;
                    case 2:
                        await client.SendAsync(HttpMethod.Delete, "v1/connect/intentions/exact", [("destination", positional[1]), ("source", positional[0])]);
                        break;
                    default:
                        return env.Fail("command requires exactly 1 or 2 arguments");
                }
            }
            catch (AgentException e)
            {
                return env.Fail($"Error deleting the intention: {e.Message}");
            }

            env.Output.WriteLine("Intention deleted.");
            return 0;
        }
    }

    private static async Task<int> MatchAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        var flags = new FlagSet("intention match [options] SRC|DST", "Lists the intentions that apply to a destination (or with -source, to a source),\nin the order they are evaluated.");
        var http = new HttpOptions(flags);
        var source = flags.Bool("source", "Match intentions with the given source.");
        var destination = flags.Bool("destination", "Match intentions with the given destination.");

        // Consul's match exits 2 on a bad flag and 1 on any other error.
        if (flags.Parse(args, env, out var positional) is { } exit)
        {
            return exit == 0 ? 0 : 2;
        }

        if (positional.Count != 1)
        {
            return env.Fail("Error: command requires exactly one argument: src or dst");
        }

        if (source.Value && destination.Value)
        {
            return env.Fail("Error: only one of -source or -destination may be specified");
        }

        if (!http.TryConnect(env, out var client))
        {
            return 1;
        }

        using (client)
        {
            JsonNode? matches;
            try
            {
                matches = (await client.SendAsync(HttpMethod.Get, "v1/connect/intentions/match", [("by", source.Value ? "source" : "destination"), ("name", positional[0])])).Json();
            }
            catch (Exception e) when (e is AgentException or JsonException)
            {
                return env.Fail($"Error matching the connection: {e.Message}");
            }

            foreach (var intention in ((matches as JsonObject)?[positional[0]]).Items())
            {
                env.Output.WriteLine($"{Side(intention, "Source")} => {Side(intention, "Destination")} ({intention.Text("Action")})");
            }

            return 0;
        }
    }

    /// <summary>One intention by ID (one argument) or by source and destination (two), or the message for what was not found.</summary>
    private static async Task<(JsonNode? Intention, string? Problem)> FindAsync(AgentClient client, IReadOnlyList<string> args)
    {
        AgentResponse answer;
        switch (args.Count)
        {
            case 1:
                answer = await client.SendAsync(HttpMethod.Get, $"v1/connect/intentions/{AgentClient.EscapePath(args[0])}", notFoundIsAnswer: true);
                return answer.IsNotFound ? (null, $"Intention not found with ID \"{args[0]}\"") : (answer.Json(), null);
            case 2:
                answer = await client.SendAsync(HttpMethod.Get, "v1/connect/intentions/exact", [("destination", args[1]), ("source", args[0])], notFoundIsAnswer: true);
                return answer.IsNotFound ? (null, $"Intention not found with source \"{args[0]}\" and destination \"{args[1]}\"") : (answer.Json(), null);
            default:
                return (null, "command requires exactly 1 or 2 arguments");
        }
    }

    /// <summary>The intention SRC DST name, as Consul's CLI sends it: <c>[partition/][namespace/]name</c> on each side.</summary>
    private static JsonObject FromArgs(IReadOnlyList<string> args, string action, IReadOnlyList<string> meta)
    {
        if (args.Count != 2)
        {
            throw new FormatException("Must specify two arguments: source and destination");
        }

        var intention = new JsonObject();
        Target(intention, "Source", args[0], "Invalid intention source");
        Target(intention, "Destination", args[1], "Invalid intention destination");
        intention["SourceType"] = "consul";
        intention["Action"] = action;
        if (meta.Count > 0)
        {
            var map = new JsonObject();
            foreach (var pair in meta.Select(m => m.Split('=', 2)))
            {
                map[pair[0]] = pair[1];
            }

            intention["Meta"] = map;
        }

        return intention;
    }

    private static void Target(JsonObject intention, string side, string text, string problem)
    {
        var parts = text.Split('/');
        if (parts.Length > 3)
        {
            throw new FormatException($"{problem}: input can contain at most two '/'");
        }

        if (parts.Length == 3)
        {
            intention[side + "Partition"] = parts[0];
        }

        if (parts.Length >= 2)
        {
            intention[side + "NS"] = parts[^2];
        }

        intention[side + "Name"] = parts[^1];
    }

    /// <summary>Intentions from JSON files, as Consul's <c>-file</c> reads them; L7 intentions belong in a config entry.</summary>
    private static async Task<List<JsonObject>> FromFilesAsync(IReadOnlyList<string> paths, CliEnvironment env)
    {
        var intentions = new List<JsonObject>();
        foreach (var path in paths)
        {
            var bytes = await DataSource.ReadAsync(path, env);
            JsonObject read;
            try
            {
                read = JsonNode.Parse(bytes, new JsonNodeOptions { PropertyNameCaseInsensitive = true }) as JsonObject ?? throw new FormatException($"{path}: expected a JSON object");
            }
            catch (JsonException e)
            {
                throw new FormatException($"{path}: {e.Message}", e);
            }

            if (read["Permissions"] is JsonArray { Count: > 0 })
            {
                throw new FormatException($"cannot create L7 intention from file \"{path}\" using this CLI; use 'cluster config write' instead");
            }

            // Only the fields of Consul's Intention travel, in its spelling.
            var intention = new JsonObject();
            foreach (var field in new[] { "ID", "Description", "SourceNS", "SourceName", "DestinationNS", "DestinationName", "SourcePartition", "DestinationPartition", "SourceType", "Action", "Meta" })
            {
                if (read[field] is { } value)
                {
                    intention[field] = value.DeepClone();
                }
            }

            intentions.Add(intention);
        }

        return intentions;
    }

    private static JsonObject WithId(JsonObject intention, string id)
    {
        var copy = (JsonObject)intention.DeepClone();
        copy["ID"] = id;
        return copy;
    }

    // The exact API takes the names from the URL; meta belongs to the destination's config entry there.
    private static JsonObject ForUpsert(JsonObject intention)
    {
        var copy = new JsonObject();
        foreach (var field in new[] { "Description", "SourceType", "Action" })
        {
            if (intention[field] is { } value)
            {
                copy[field] = value.DeepClone();
            }
        }

        return copy;
    }

    private static byte[] Bytes(JsonObject json) => Encoding.UTF8.GetBytes(json.ToJsonString());

    /// <summary>Consul's <c>FormatSource</c>/<c>FormatDestination</c>: <c>namespace/name</c> when a namespace is given.</summary>
    private static string FormatSide(JsonNode intention, string side) =>
        intention.Text(side + "NS") is { Length: > 0 } ns ? $"{ns}/{intention.Text(side + "Name")}" : intention.Text(side + "Name");

    /// <summary>Consul's <c>SourceString</c>/<c>DestinationString</c>: the default namespace left out.</summary>
    private static string Side(JsonNode? intention, string side) =>
        intention.Text(side + "NS") is { Length: > 0 } ns and not "default" ? $"{ns}/{intention.Text(side + "Name")}" : intention.Text(side + "Name");

    private static string Describe(JsonNode intention) => $"{Side(intention, "Source")} => {Side(intention, "Destination")} ({intention.Text("Action")})";

    /// <summary>Go's RFC 850 layout; an intention without a creation time shows Go's zero time, as Consul's does. In UTC, so every host prints the same.</summary>
    private static string CreatedAt(string text)
    {
        var time = DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var parsed) ? parsed.UtcDateTime : DateTime.MinValue;
        return time.ToString("dddd, dd-MMM-yy HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
    }
}
