namespace Cluster.Cli.Commands;

/// <summary><c>cluster operator raft list-peers|remove-peer</c>: the servers' Raft configuration.</summary>
internal static class OperatorCommands
{
    public static IReadOnlyList<Verb> Verbs { get; } =
    [
        new("operator", "Provides cluster-level tools for operators", null, "Cluster-level tools for operators: the Raft subsystem of the servers."),
        new("operator raft", "Provides commands to interact with the Raft subsystem", null, "Inspect and change the servers' Raft configuration."),
        new("operator raft list-peers", "Display the current Raft peer configuration", ListPeersAsync),
        new("operator raft remove-peer", "Remove a server from the Raft configuration", RemovePeerAsync),
    ];

    private static async Task<int> ListPeersAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        var flags = new FlagSet("operator raft list-peers [options]", "Displays the servers in the Raft configuration and which of them leads.\nWith -stale any server answers, useful when there is no leader.");
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
            AgentResponse response;
            try
            {
                response = await client.SendAsync(HttpMethod.Get, "v1/operator/raft/configuration");
            }
            catch (AgentException e)
            {
                return env.Fail($"Error getting peers: Failed to retrieve raft configuration: {e.Message}");
            }

            var servers = response.Json()?["Servers"].Items() ?? [];
            IEnumerable<IReadOnlyList<string>> rows =
            [
                ["Node", "ID", "Address", "State", "Voter", "RaftProtocol"],
                .. servers.Select(s => new[]
                {
                    s.Text("Node"),
                    s.Text("ID"),
                    s.Text("Address"),
                    s.Flag("Leader") ? "leader" : "follower",
                    s.Flag("Voter") ? "true" : "false",
                    s.Text("ProtocolVersion") is { Length: > 0 } protocol ? protocol : "<=1",
                }),
            ];
            env.Output.WriteLine(Table.Columnize(rows));
            return 0;
        }
    }

    private static async Task<int> RemovePeerAsync(IReadOnlyList<string> args, CliEnvironment env)
    {
        var flags = new FlagSet("operator raft remove-peer [options]", "Removes a server from the Raft configuration, by -address or by -id: for a\nserver that failed and will not come back, so that it no longer counts toward quorum.");
        var http = new HttpOptions(flags);
        var address = flags.String("address", "The address of the server to remove, IP:port.", placeholder: "IP:port");
        var id = flags.String("id", "The Raft ID of the server to remove.", placeholder: "id");
        if (flags.Parse(args, env, out var positional) is { } exit)
        {
            return exit;
        }

        if (positional.Count > 0)
        {
            return env.Fail($"Too many arguments (expected 0, got {positional.Count})");
        }

        if (address.Value.Length == 0 == (id.Value.Length == 0))
        {
            return env.Fail(address.Value.Length == 0
                ? "Error removing peer: an address or id is required for the peer to remove"
                : "Error removing peer: cannot give both an address and id");
        }

        if (!http.TryConnect(env, out var client))
        {
            return 1;
        }

        using (client)
        {
            var (by, value) = address.Value.Length > 0 ? ("address", address.Value) : ("id", id.Value);
            try
            {
                await client.SendAsync(HttpMethod.Delete, "v1/operator/raft/peer", [(by, value)]);
            }
            catch (AgentException e)
            {
                return env.Fail($"Error removing peer: {e.Message}");
            }

            env.Output.WriteLine($"Removed peer with {by} \"{value}\"");
            return 0;
        }
    }
}
