using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Agent.Config;

namespace Cluster.Cli.Commands;

/// <summary>
/// <c>cluster connect ca get-config|set-config</c>: the Connect CA's configuration, read and
/// replaced through /v1/connect/ca/configuration with Consul's flags, messages and output.
/// </summary>
internal static class ConnectCaCommands
{
    // Consul prints the configuration with json.MarshalIndent(…, "", "\t").
    private static readonly JsonSerializerOptions Tabs = new() { WriteIndented = true, IndentCharacter = '\t', IndentSize = 1, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The fields of Consul's api.CAConfig, in its order: what get-config prints and set-config sends.</summary>
    private static readonly string[] Fields = ["Provider", "Config", "State", "ForceWithoutCrossSigning", "CreateIndex", "ModifyIndex"];

    public static IReadOnlyList<Verb> Verbs { get; } =
    [
        new("connect", "Interact with Connect, the service mesh", null, "Subcommands for Connect, the service mesh: its Certificate Authority (CA)."),
        new("connect ca", "Interact with the Connect Certificate Authority (CA)", null, "Show or change the configuration of the Connect Certificate Authority (CA).\nExamples: cluster connect ca get-config\n          cluster connect ca set-config -config-file ca.json"),
        new("connect ca get-config", "Display the current Connect CA configuration", GetConfigAsync),
        new("connect ca set-config", "Modify the current Connect CA configuration", SetConfigAsync),
    ];

    private static async Task<int> GetConfigAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        var flags = new FlagSet("connect ca get-config [options]", "Prints the current Connect Certificate Authority (CA) configuration as JSON.");
        var http = new HttpOptions(flags);
        if (flags.Parse(args, env, out var positional) is { } exit)
        {
            return exit;
        }

        if (positional.Count > 0)
        {
            return env.Fail($"Too many arguments (expected 0, got {positional.Count})");
        }

        if (!http.TryConnect(env, out var client))
        {
            return 1;
        }

        using (client)
        {
            JsonNode? config;
            try
            {
                config = (await client.SendAsync(HttpMethod.Get, "v1/connect/ca/configuration")).Json();
            }
            catch (AgentException e)
            {
                return env.Fail($"Error querying CA configuration: {e.Message}");
            }
            catch (JsonException e)
            {
                return env.Fail($"Error querying CA configuration: the agent's answer is not JSON: {e.Message}");
            }

            env.Output.WriteLine(AsConsulPrints(config as JsonObject ?? []).ToJsonString(Tabs));
            return 0;
        }
    }

    private static async Task<int> SetConfigAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        var flags = new FlagSet(
            "connect ca set-config [options]",
            "Replaces the Connect Certificate Authority (CA) configuration with the one in the\n-config-file (JSON, as get-config prints it; \"-\" reads stdin). Settings the file leaves\nout take their defaults. The file's ForceWithoutCrossSigning is not used: the flag decides.");
        var http = new HttpOptions(flags);
        var configFile = flags.String("config-file", "The path to the JSON file holding the new configuration.", placeholder: "path");
        var force = flags.Bool(
            "force-without-cross-signing",
            "Go ahead even if the current CA cannot cross-sign the new root: leaves it signs may be refused until every proxy has the new root.");
        if (flags.Parse(args, env, out var positional) is { } exit)
        {
            return exit;
        }

        if (positional.Count > 0)
        {
            return env.Fail($"Too many arguments (expected 0, got {positional.Count})");
        }

        if (configFile.Value.Length == 0)
        {
            return env.Fail("The -config-file flag is required");
        }

        JsonObject body;
        try
        {
            body = Request(configFile.Value, await ReadAsync(configFile.Value, env), force.Value);
        }
        catch (IOException e)
        {
            return env.Fail($"Error reading config file: {e.Message}");
        }
        catch (ConfigException e)
        {
            return env.Fail($"Error parsing config file: {e.Message}");
        }

        if (!http.TryConnect(env, out var client))
        {
            return 1;
        }

        using (client)
        {
            try
            {
                await client.SendAsync(HttpMethod.Put, "v1/connect/ca/configuration", body: Encoding.UTF8.GetBytes(body.ToJsonString()));
            }
            catch (AgentException e)
            {
                return env.Fail($"Error setting CA configuration: {e.Message}");
            }

            env.Output.WriteLine("Configuration updated!");
            return 0;
        }
    }

    private static async Task<byte[]> ReadAsync(string source, CliEnvironment env)
    {
        if (source != "-" && Directory.Exists(source))
        {
            throw new IOException($"read {source}: is a directory");
        }

        return await DataSource.ReadAsync(source, env);
    }

    /// <summary>
    /// The agent's answer as Consul's client prints it, decoded into its api.CAConfig: those
    /// fields only, in that order (so no ClusterID), and Config's keys sorted as Go writes a map.
    /// </summary>
    private static JsonObject AsConsulPrints(JsonObject answer)
    {
        JsonNode? Field(string name) => answer[name]?.DeepClone();
        return new JsonObject
        {
            ["Provider"] = Field("Provider") ?? "",
            ["Config"] = Sorted(Field("Config")),
            ["State"] = Sorted(Field("State")),
            ["ForceWithoutCrossSigning"] = Field("ForceWithoutCrossSigning") ?? false,
            ["CreateIndex"] = Field("CreateIndex") ?? 0,
            ["ModifyIndex"] = Field("ModifyIndex") ?? 0,
        };
    }

    private static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject map => new JsonObject(map.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Sorted(p.Value?.DeepClone())))),
        JsonArray list => new JsonArray([.. list.Select(item => Sorted(item?.DeepClone()))]),
        _ => node,
    };

    /// <summary>
    /// The body to PUT, as Consul's client builds it from the file: its api.CAConfig fields
    /// matched without regard to case and checked for type, every one of them sent, and
    /// ForceWithoutCrossSigning from the flag. A key that is none of them goes as written, so
    /// the agent refuses it by name (Consul's decoding would drop it, and a misspelt "Config"
    /// would silently reset every setting to its default).
    /// </summary>
    private static JsonObject Request(string source, byte[] bytes, bool force)
    {
        var file = source == "-" ? "<stdin>" : source.TrimStart('@');
        var document = JsonConfigParser.Parse(file, Encoding.UTF8.GetString(bytes).TrimStart('\uFEFF'));
        var given = new Dictionary<string, (string Written, JsonNode? Value)>(StringComparer.Ordinal);
        var others = new List<KeyValuePair<string, JsonNode?>>();
        foreach (var (written, value) in document.Root)
        {
            if (Fields.FirstOrDefault(f => string.Equals(f, written, StringComparison.OrdinalIgnoreCase)) is not { } field)
            {
                others.Add(KeyValuePair.Create(written, value?.DeepClone()));
                continue;
            }

            if (given.TryGetValue(field, out var first))
            {
                throw document.KeyError(document.Root, written, $"{field} is given twice (as \"{first.Written}\" and \"{written}\")");
            }

            given[field] = (written, value);
        }

        JsonNode? Checked(string field, Func<JsonNode, bool> valid, string expected)
        {
            if (!given.TryGetValue(field, out var entry) || entry.Value is null)
            {
                return null;
            }

            return valid(entry.Value)
                ? entry.Value.DeepClone()
                : throw document.Error(entry.Value, $"{entry.Written}: expected {expected}, got {Describe(entry.Value)}");
        }

        var state = Checked("State", v => v is JsonObject map && map.All(p => IsKind(p.Value, JsonValueKind.String)), "an object of strings");
        JsonObject body = new()
        {
            ["Provider"] = Checked("Provider", v => IsKind(v, JsonValueKind.String), "a string") ?? "",
            ["Config"] = Checked("Config", v => v is JsonObject, "an object"),
            ["State"] = state,
            ["ForceWithoutCrossSigning"] = force,
            ["CreateIndex"] = Checked("CreateIndex", IsIndex, "an unsigned integer") ?? 0,
            ["ModifyIndex"] = Checked("ModifyIndex", IsIndex, "an unsigned integer") ?? 0,
        };
        _ = Checked("ForceWithoutCrossSigning", v => IsKind(v, JsonValueKind.True) || IsKind(v, JsonValueKind.False), "true or false");
        foreach (var other in others)
        {
            body.Add(other);
        }

        return body;
    }

    private static bool IsKind(JsonNode? node, JsonValueKind kind) => node is JsonValue value && value.GetValueKind() == kind;

    private static bool IsIndex(JsonNode node) => node is JsonValue value && value.TryGetValue<long>(out var index) && index >= 0;

    private static string Describe(JsonNode node) => node switch
    {
        JsonObject => "an object",
        JsonArray => "an array",
        _ => node.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            var kind => kind.ToString().ToLowerInvariant(),
        },
    };
}
