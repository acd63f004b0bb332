using System.Text.Json.Nodes;

namespace Cluster.Cli.Commands;

/// <summary><c>cluster catalog services|nodes</c>: Consul's catalog listings and their tables.</summary>
internal static class CatalogCommands
{
    public static IReadOnlyList<Verb> Verbs { get; } =
    [
        new("catalog", "Interact with the catalog", null, "Subcommands for the catalog: list its nodes and services."),
        new("catalog services", "Lists all registered services in a datacenter", ServicesAsync),
        new("catalog nodes", "Lists all nodes in the given datacenter", NodesAsync),
    ];

    private static async Task<int> ServicesAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        var flags = new FlagSet("catalog services [options]", "Lists the services registered in the catalog, sorted by name.");
        var http = new HttpOptions(flags);
        var node = flags.String("node", "List only the services on this node (its name or ID).", placeholder: "node");
        var nodeMeta = NodeMetaFlag(flags);
        var tags = flags.Bool("tags", "Show each service's tags.");
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
            var query = NodeMetaQuery(nodeMeta.Value);
            var services = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
            try
            {
                if (node.Value.Length > 0)
                {
                    var answer = (await client.SendAsync(HttpMethod.Get, "v1/catalog/node/" + AgentClient.EscapePath(node.Value), query)).Json();
                    foreach (var (_, service) in answer?["Services"] as JsonObject ?? [])
                    {
                        AddTags(services, service.Text("Service"), service?["Tags"]);
                    }
                }
                else
                {
                    foreach (var (name, serviceTags) in (await client.SendAsync(HttpMethod.Get, "v1/catalog/services", query)).Json() as JsonObject ?? [])
                    {
                        AddTags(services, name, serviceTags);
                    }
                }
            }
            catch (AgentException e)
            {
                return env.Fail(node.Value.Length > 0 ? $"Error listing services for node: {e.Message}" : $"Error listing services: {e.Message}");
            }

            if (services.Count == 0)
            {
                // Consul's wording and exit code: an empty answer is not a failure.
                env.Error.WriteLine("No services match the given query - try expanding your search.");
                return 0;
            }

            env.Output.WriteLine(tags.Value
                ? Table.Pairs(services.Select(s => (s.Key, string.Join(',', s.Value))))
                : string.Join('\n', services.Keys));
            return 0;
        }
    }

    private static async Task<int> NodesAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        var flags = new FlagSet("catalog nodes [options]", "Lists the nodes in the catalog: name, ID (its first part unless -detailed), address and datacenter.");
        var http = new HttpOptions(flags);
        var detailed = flags.Bool("detailed", "Show full node IDs, tagged addresses and metadata.");
        var filter = flags.String("filter", "Only nodes matching this filter expression.", placeholder: "expression");
        var near = flags.String("near", "Sort the nodes by round-trip time from this node (\"_agent\" is the queried agent).", placeholder: "node");
        var nodeMeta = NodeMetaFlag(flags);
        var service = flags.String("service", "List only the nodes running this service (its name or ID).", placeholder: "service");
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
            var query = new List<(string, string?)>();
            if (near.Value.Length > 0)
            {
                query.Add(("near", near.Value));
            }

            query.AddRange(NodeMetaQuery(nodeMeta.Value));
            if (filter.Value.Length > 0)
            {
                query.Add(("filter", filter.Value));
            }

            List<JsonNode?> nodes;
            try
            {
                var path = service.Value.Length > 0 ? "v1/catalog/service/" + AgentClient.EscapePath(service.Value) : "v1/catalog/nodes";
                nodes = [.. (await client.SendAsync(HttpMethod.Get, path, query)).Json().Items()];
            }
            catch (AgentException e)
            {
                return env.Fail(service.Value.Length > 0 ? $"Error listing nodes for service: {e.Message}" : $"Error listing nodes: {e.Message}");
            }

            if (nodes.Count == 0)
            {
                env.Error.WriteLine("No nodes match the given query - try expanding your search.");
                return 0;
            }

            // A service entry carries its node's metadata as NodeMeta; a node as Meta.
            var metaField = service.Value.Length > 0 ? "NodeMeta" : "Meta";
            IEnumerable<IReadOnlyList<string>> rows = detailed.Value
                ? [["Node", "ID", "Address", "DC", "TaggedAddresses", "Meta"], .. nodes.Select(n => new[] { n.Text("Node"), n.Text("ID"), n.Text("Address"), n.Text("Datacenter"), Joined(n.Map("TaggedAddresses")), Joined(n.Map(metaField)) })]
                : [["Node", "ID", "Address", "DC"], .. nodes.Select(n => new[] { n.Text("Node"), ShortId(n.Text("ID")), n.Text("Address"), n.Text("Datacenter") })];
            env.Output.WriteLine(Table.Columnize(rows));
            return 0;
        }
    }

    private static Flag<IReadOnlyList<string>> NodeMetaFlag(FlagSet flags) =>
        flags.Repeated("node-meta", "Only nodes with this metadata key=value; may be given more than once.", "key=value", text => text.Contains('=', StringComparison.Ordinal));

    // The HTTP API takes node metadata filters as node-meta=key:value.
    private static List<(string, string?)> NodeMetaQuery(IReadOnlyList<string> pairs) =>
        [.. pairs.Select(p => p.Split('=', 2)).Select(kv => ("node-meta", (string?)$"{kv[0]}:{kv[1]}"))];

    private static void AddTags(SortedDictionary<string, SortedSet<string>> services, string name, JsonNode? tags)
    {
        if (!services.TryGetValue(name, out var set))
        {
            services[name] = set = new SortedSet<string>(StringComparer.Ordinal);
        }

        set.UnionWith(tags.Items().Select(t => t?.GetValue<string>() ?? ""));
    }

    // Consul shortens IDs to their first group in the plain table.
    private static string ShortId(string id) => id.IndexOf('-', StringComparison.Ordinal) is > 0 and var dash ? id[..dash] : id;

    private static string Joined(IReadOnlyList<KeyValuePair<string, string>> map) => string.Join(", ", map.Select(p => $"{p.Key}={p.Value}"));
}
