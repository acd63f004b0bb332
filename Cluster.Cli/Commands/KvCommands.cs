using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Cluster.Cli.Commands;

/// <summary><c>cluster kv put|get|delete</c>: Consul's KV commands, with its flags, messages and exit codes.</summary>
internal static class KvCommands
{
    public static IReadOnlyList<Verb> Verbs { get; } =
    [
        new("kv", "Interact with the key-value store", null, "Subcommands for the key-value store: put, get and delete data."),
        new("kv put", "Sets or updates data in the KV store", PutAsync),
        new("kv get", "Retrieves or lists data from the KV store", GetAsync),
        new("kv delete", "Removes data from the KV store", DeleteAsync),
    ];

    private static async Task<int> PutAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        var flags = new FlagSet("kv put [options] KEY [DATA]", "Writes DATA at KEY in the key-value store. DATA \"-\" reads stdin,\n\"@path\" reads a file; without DATA the key holds no value.");
        var http = new HttpOptions(flags);
        var acquire = flags.Bool("acquire", "Obtain a lock on the key (requires -session); nothing is written if another session holds it.");
        var base64 = flags.Bool("base64", "Treat the data as base 64 encoded.");
        var cas = flags.Bool("cas", "Check-And-Set: write only if the key's ModifyIndex is -modify-index (0 means: only if the key does not exist).");
        var kvFlags = flags.UInt64("flags", "Unsigned integer value to store with the key, for the application's own use.");
        var modifyIndex = flags.UInt64("modify-index", "The ModifyIndex the key must have for -cas.");
        var release = flags.Bool("release", "Release the lock held on the key by -session.");
        var session = flags.String("session", "The session that acquires or releases the lock.");
        if (flags.Parse(args, env, out var positional) is { } exit)
        {
            return exit;
        }

        if ((acquire.Value || release.Value) && session.Value.Length == 0)
        {
            return env.Fail("Error! Missing -session (required with -acquire and -release)");
        }

        // Consul insists on a non-zero index here; an explicit -modify-index=0 is allowed, since CAS at 0 is "create only".
        if (cas.Value && !modifyIndex.IsSet)
        {
            return env.Fail("Must specify -modify-index with -cas!");
        }

        if (positional.Count is 0 or > 2)
        {
            return env.Fail(positional.Count == 0 ? "Error! Missing KEY argument" : $"Error! Too many arguments (expected 1 or 2, got {positional.Count})");
        }

        var key = positional[0];
        byte[] data;
        try
        {
            data = await ValueAsync(positional.Count == 2 ? positional[1] : "", env);
            if (base64.Value)
            {
                data = Convert.FromBase64String(Encoding.UTF8.GetString(data));
            }
        }
        catch (IOException e)
        {
            return env.Fail($"Error! {e.Message}");
        }
        catch (FormatException e)
        {
            return env.Fail($"Error! Cannot base 64 decode data: {e.Message}");
        }

        if (!http.TryConnect(env, out var client))
        {
            return 1;
        }

        using (client)
        {
            // Consul's precedence: -cas, then -acquire, then -release, else a plain write.
            (string Name, string Value)? mode = cas.Value ? ("cas", modifyIndex.Value.ToString(CultureInfo.InvariantCulture))
                : acquire.Value ? ("acquire", session.Value)
                : release.Value ? ("release", session.Value)
                : null;
            var (failed, refused, succeeded) = mode?.Name switch
            {
                "cas" => ($"Error! Did not write to {key}", $"Error! Did not write to {key}: CAS failed", $"Success! Data written to: {key}"),
                "acquire" => ("Error! Failed writing data", "Error! Did not acquire lock", $"Success! Lock acquired on: {key}"),
                "release" => ("Error! Failed writing data", "Error! Did not release lock", $"Success! Lock released on: {key}"),
                _ => ("Error! Failed writing data", "", $"Success! Data written to: {key}"),
            };
            var query = new List<(string, string?)>();
            if (mode is ({ } name, { } value))
            {
                query.Add((name, value));
            }

            if (kvFlags.Value != 0)
            {
                query.Add(("flags", kvFlags.Value.ToString(CultureInfo.InvariantCulture)));
            }

            try
            {
                var response = await client.SendAsync(HttpMethod.Put, KeyPath(key), query, data);
                // A plain put always succeeds when the agent answers 200; the others answer whether they took effect.
                if (refused.Length > 0 && !response.IsTrue)
                {
                    return env.Fail(refused);
                }
            }
            catch (AgentException e)
            {
                return env.Fail($"{failed}: {e.Message}");
            }

            env.Output.WriteLine(succeeded);
            return 0;
        }
    }

    private static async Task<int> GetAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        var flags = new FlagSet("kv get [options] [KEY_OR_PREFIX]", "Reads the value at KEY, or with -recurse every key under the prefix,\nor with -keys the keys under the prefix up to the next separator.");
        var http = new HttpOptions(flags);
        var base64 = flags.Bool("base64", "Base 64 encode the value.");
        var detailed = flags.Bool("detailed", "Show all metadata of the key: CreateIndex, ModifyIndex, Flags, LockIndex, Session and Value.");
        var keys = flags.Bool("keys", "List the keys under the prefix instead of values.");
        var recurse = flags.Bool("recurse", "Read every key under the prefix, printed as KEY:VALUE.");
        var separator = flags.String("separator", "With -keys, list keys only up to the first separator after the prefix; empty lists them all.", "/");
        if (flags.Parse(args, env, out var positional) is { } exit)
        {
            return exit;
        }

        if (positional.Count > 1)
        {
            return env.Fail($"Too many arguments (expected 1, got {positional.Count})");
        }

        // Keys never start with "/", but "/" and "/foo" are natural to type; Consul strips it too.
        var key = positional.Count == 1 ? positional[0].TrimStart('/') : "";
        if (key.Length == 0 && !(recurse.Value || keys.Value))
        {
            return env.Fail("Error! Missing KEY argument");
        }

        if (!http.TryConnect(env, out var client))
        {
            return 1;
        }

        using (client)
        {
            AgentResponse response;
            try
            {
                var query = new List<(string, string?)>();
                if (keys.Value)
                {
                    query.Add(("keys", null));
                    if (separator.Value.Length > 0)
                    {
                        query.Add(("separator", separator.Value));
                    }
                }
                else if (recurse.Value)
                {
                    query.Add(("recurse", null));
                }

                response = await client.SendAsync(HttpMethod.Get, KeyPath(key), query, notFoundIsAnswer: true);
            }
            catch (AgentException e)
            {
                return env.Fail($"Error querying Consul agent: {e.Message}");
            }

            var json = response.IsNotFound ? null : response.Json();
            if (keys.Value)
            {
                foreach (var listed in json.Items())
                {
                    env.Output.WriteLine(listed?.GetValue<string>());
                }

                return 0;
            }

            var pairs = json.Items().ToList();
            if (!recurse.Value)
            {
                if (pairs.Count == 0)
                {
                    return env.Fail($"Error! No key exists at: {key}");
                }

                env.Output.WriteLine(detailed.Value ? Detailed(pairs[0], base64.Value) : Value(pairs[0], base64.Value));
                return 0;
            }

            for (var i = 0; i < pairs.Count; i++)
            {
                if (detailed.Value)
                {
                    env.Output.WriteLine(Detailed(pairs[i], base64.Value));
                    if (i < pairs.Count - 1)
                    {
                        env.Output.WriteLine();
                    }
                }
                else
                {
                    env.Output.WriteLine($"{pairs[i].Text("Key")}:{Value(pairs[i], base64.Value)}");
                }
            }

            return 0;
        }
    }

    private static async Task<int> DeleteAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        var flags = new FlagSet("kv delete [options] KEY_OR_PREFIX", "Removes the value at KEY, or with -recurse every key under the prefix.");
        var http = new HttpOptions(flags);
        var cas = flags.Bool("cas", "Check-And-Set: delete only if the key's ModifyIndex is -modify-index.");
        var modifyIndex = flags.UInt64("modify-index", "The ModifyIndex the key must have for -cas.");
        var recurse = flags.Bool("recurse", "Delete the key and every key under it as a prefix.");
        if (flags.Parse(args, env, out var positional) is { } exit)
        {
            return exit;
        }

        if (positional.Count > 1)
        {
            return env.Fail($"Too many arguments (expected 1, got {positional.Count})");
        }

        var key = positional.Count == 1 ? positional[0].TrimStart('/') : "";
        var problem = (key.Length == 0 && !recurse.Value) ? "Error! Missing KEY argument"
            : cas.Value && modifyIndex.Value == 0 ? "Must specify -modify-index with -cas!"
            : modifyIndex.Value != 0 && !cas.Value ? "Cannot specify -modify-index without -cas!"
            : recurse.Value && cas.Value ? "Cannot specify both -cas and -recurse!"
            : null;
        if (problem is not null)
        {
            return env.Fail(problem);
        }

        if (!http.TryConnect(env, out var client))
        {
            return 1;
        }

        using (client)
        {
            List<(string, string?)> query = recurse.Value ? [("recurse", null)]
                : cas.Value ? [("cas", modifyIndex.Value.ToString(CultureInfo.InvariantCulture))]
                : [];
            try
            {
                var response = await client.SendAsync(HttpMethod.Delete, KeyPath(key), query);
                if (cas.Value && !response.IsTrue)
                {
                    return env.Fail($"Error! Did not delete key {key}: CAS failed");
                }
            }
            catch (AgentException e)
            {
                return env.Fail(recurse.Value ? $"Error! Did not delete prefix {key}: {e.Message}"
                    : cas.Value ? $"Error! Did not delete key {key}: {e.Message}"
                    : $"Error deleting key {key}: {e.Message}");
            }

            env.Output.WriteLine(recurse.Value ? $"Success! Deleted keys with prefix: {key}" : $"Success! Deleted key: {key}");
            return 0;
        }
    }

    // DATA as kv put reads it: "-" alone is stdin, "@path" a file, anything else the value itself.
    private static async Task<byte[]> ValueAsync(string data, CliEnvironment env)
    {
        try
        {
            return data == "-" || data.StartsWith('@') ? await DataSource.ReadAsync(data, env) : Encoding.UTF8.GetBytes(data);
        }
        catch (IOException e)
        {
            throw new IOException(data == "-" ? $"Failed to read stdin: {e.Message}" : $"Failed to read file: {e.Message}", e);
        }
    }

    // The Go client refuses such keys before sending; the agent would read "/v1/kv//foo" as another key.
    private static string KeyPath(string key) => key.StartsWith('/')
        ? throw new AgentException($"Invalid key. Key must not begin with a '/': {key}")
        : "v1/kv/" + AgentClient.EscapePath(key);

    private static byte[] Bytes(JsonNode? pair) => Convert.FromBase64String(pair.Text("Value"));

    private static string Value(JsonNode? pair, bool base64) =>
        base64 ? Convert.ToBase64String(Bytes(pair)) : Encoding.UTF8.GetString(Bytes(pair));

    private static string Detailed(JsonNode? pair, bool base64)
    {
        List<(string, string)> rows =
        [
            ("CreateIndex", pair.Text("CreateIndex")),
            ("Flags", pair.Text("Flags")),
            ("Key", pair.Text("Key")),
            ("LockIndex", pair.Text("LockIndex")),
            ("ModifyIndex", pair.Text("ModifyIndex")),
            ("Session", pair.Text("Session")),
        ];
        foreach (var optional in new[] { "Namespace", "Partition" })
        {
            if (pair.Text(optional).Length > 0)
            {
                rows.Add((optional, pair.Text(optional)));
            }
        }

        rows.Add(("Value", Value(pair, base64)));
        return Table.Pairs(rows);
    }
}
