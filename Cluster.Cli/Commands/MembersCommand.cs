using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Cluster.Cli.Commands;

/// <summary><c>cluster members</c>: the gossip pool as the agent sees it, in Consul's table.</summary>
internal static class MembersCommand
{
    public static Verb Verb { get; } = new("members", "Lists the members of the cluster", RunAsync);

    private static async Task<int> RunAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        var flags = new FlagSet("members [options]", "Lists the members of the gossip pool the agent is in: servers first, then\nclients, by name. Exit code 2 when no member matches -status.");
        var http = new HttpOptions(flags);
        var detailed = flags.Bool("detailed", "Show every tag of each member instead of the table.");
        var segment = flags.String("segment", "List only members of this network segment.", placeholder: "string");
        var status = flags.String("status", "Only members whose status (alive, leaving, left, failed) matches this regular expression.", ".*", "string");
        var wan = flags.Bool("wan", "List the servers of the WAN pool instead of the LAN.");
        if (flags.Parse(args, env, out var positional) is { } exit)
        {
            return exit;
        }

        if (positional.Count > 0)
        {
            return env.Fail($"Too many arguments (expected 0, got {positional.Count})");
        }

        Regex statusPattern;
        try
        {
            statusPattern = new Regex(status.Value, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            return env.Fail($"Failed to compile status regexp: {e.Message}");
        }

        if (!http.TryConnect(env, out var client))
        {
            return 1;
        }

        using (client)
        {
            var query = new List<(string, string?)>();
            if (wan.Value)
            {
                query.Add(("wan", "1"));
            }

            if (segment.Value.Length > 0)
            {
                query.Add(("segment", segment.Value));
            }

            List<Member> members;
            try
            {
                members = [.. (await client.SendAsync(HttpMethod.Get, "v1/agent/members", query)).Json().Items().Select(Member.From)];
            }
            catch (AgentException e)
            {
                return env.Fail($"Error retrieving members: {e.Message}");
            }

            members = [.. members.Where(m => statusPattern.IsMatch(m.Status))
                .OrderBy(m => m.IsServer ? 0 : 1)
                .ThenBy(m => m.IsServer || m.Partition == "default" ? 0 : 1)
                .ThenBy(m => m.IsServer ? "" : m.Partition, StringComparer.Ordinal)
                .ThenBy(m => m.IsServer ? "" : m.Tag("segment"), StringComparer.Ordinal)
                .ThenBy(m => m.Name, StringComparer.Ordinal)];
            if (members.Count == 0)
            {
                return 2;
            }

            IEnumerable<IReadOnlyList<string>> rows = detailed.Value
                ? [["Node", "Address", "Status", "Tags"], .. members.Select(m => new[] { m.Name, m.Address, m.Status, string.Join(',', m.Tags.Select(t => $"{t.Key}={t.Value}")) })]
                : [["Node", "Address", "Status", "Type", "Build", "Protocol", "DC", "Partition", "Segment"], .. members.Select(m => m.Row())];
            env.Output.WriteLine(Table.Columnize(rows));
            return 0;
        }
    }

    /// <summary>One entry of /v1/agent/members: serf's view of a member and its tags.</summary>
    private sealed record Member(string Name, string Address, string Status, IReadOnlyList<KeyValuePair<string, string>> Tags)
    {
        public bool IsServer => Tag("role") == "consul";

        public string Partition => Tag("ap") is { Length: > 0 } partition ? partition : "default";

        public static Member From(JsonNode? node)
        {
            var address = node.Text("Addr");
            var host = IPAddress.TryParse(address, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address;
            var status = node.Text("Status") switch
            {
                "0" => "none",
                "1" => "alive",
                "2" => "leaving",
                "3" => "left",
                "4" => "failed",
                _ => "unknown",
            };
            return new Member(node.Text("Name"), $"{host}:{node.Text("Port")}", status, node.Map("Tags"));
        }

        public string Tag(string name) => Tags.FirstOrDefault(t => t.Key == name).Value ?? "";

        /// <summary>The standard table's row, with Consul's placeholders: "&lt; 0.3" for a member without a build tag, the build cut at its ":", a server's segment "&lt;all&gt;".</summary>
        public string[] Row()
        {
            var build = Tag("build") switch
            {
                "" => "< 0.3",
                var b when b.Contains(':', StringComparison.Ordinal) => b[..b.IndexOf(':', StringComparison.Ordinal)],
                var b => b,
            };
            return Tag("role") switch
            {
                "consul" => [Name, Address, Status, "server", build, Tag("vsn"), Tag("dc"), Partition, "<all>"],
                "node" => [Name, Address, Status, "client", build, Tag("vsn"), Tag("dc"), Partition, Tag("segment") is { Length: > 0 } s ? s : "<default>"],
                _ => [Name, Address, Status, "unknown", "", "", "", "", ""],
            };
        }
    }
}
