using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Cluster.Agent.Config;

/// <summary>
/// The agent's configuration once every source is merged and checked, with Consul's names and
/// defaults. <see cref="AgentConfigLoader"/> makes it; <see cref="Default"/> and <see cref="DevDefaults"/>
/// are where it starts.
/// </summary>
public sealed record AgentConfig
{
    public const string DefaultDatacenter = "dc1";

    /// <summary>The node's name in the catalog and in gossip; the host name unless set.</summary>
    public string NodeName { get; init; } = HostName();

    /// <summary>A UUID naming the node for good; null lets the agent make one and keep it in the data dir.</summary>
    public string? NodeId { get; init; }

    /// <summary>Lower case: letters, digits, '-' and '_'.</summary>
    public string Datacenter { get; init; } = DefaultDatacenter;

    /// <summary>Where the agent keeps its state; only dev mode may go without.</summary>
    public string? DataDir { get; init; }

    public bool Server { get; init; }

    /// <summary>Servers to wait for before electing the first leader; 0 is off.</summary>
    public int BootstrapExpect { get; init; }

    /// <summary>Elect this server alone (dev mode, or the very first server).</summary>
    public bool Bootstrap { get; init; }

    public bool Dev { get; init; }

    /// <summary>The address gossip and server RPC listen on.</summary>
    public string BindAddr { get; init; } = "0.0.0.0";

    /// <summary>The address others reach this node at; null is the bind address (or, for 0.0.0.0, a private one).</summary>
    public string? AdvertiseAddr { get; init; }

    /// <summary>The addresses the HTTP, DNS and gRPC listeners bind, space-separated.</summary>
    public string ClientAddr { get; init; } = "127.0.0.1";

    public AgentPorts Ports { get; init; } = new();

    /// <summary>"host:port" of LAN members to join, tried until one answers.</summary>
    public ValueList<string> RetryJoin { get; init; } = [];

    /// <summary>"host:port" of servers in other datacenters to join over the WAN.</summary>
    public ValueList<string> RetryJoinWan { get; init; } = [];

    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan RetryIntervalWan { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The gossip encryption key, base64 (16, 24 or 32 bytes); null is plaintext gossip.</summary>
    public string? Encrypt { get; init; }

    /// <summary>trace, debug, info, warn or error.</summary>
    public string LogLevel { get; init; } = "info";

    public bool UiEnabled { get; init; }

    public bool EnableScriptChecks { get; init; }

    /// <summary>Whether the Raft log is flushed to disk before an entry counts as written; dev mode trades it for speed.</summary>
    public bool RaftFsync { get; init; } = true;

    public ValueList<ServiceDefinition> Services { get; init; } = [];

    /// <summary>The top-level checks (a service's own are in its definition).</summary>
    public ValueList<CheckDefinition> Checks { get; init; } = [];

    /// <summary>
    /// <c>config_entries { bootstrap = [...] }</c>: entries a server writes when it first becomes
    /// leader, each an object with Kind and Name, kept as written for the server to validate. Read only.
    /// </summary>
    public ValueList<JsonObject> ConfigEntriesBootstrap { get; init; } = [];

    /// <summary>Settings that work but deserve a second look, for the agent to log at start.</summary>
    public ValueList<string> Warnings { get; init; } = [];

    /// <summary>Consul's defaults for an agent.</summary>
    public static AgentConfig Default => new();

    /// <summary>
    /// <c>-dev</c>: one server that elects itself, on loopback, with the UI, debug logging and no
    /// fsync, keeping nothing it needs a data dir for.
    /// </summary>
    public static AgentConfig DevDefaults => new()
    {
        Dev = true,
        Server = true,
        Bootstrap = true,
        BindAddr = "127.0.0.1",
        UiEnabled = true,
        LogLevel = "debug",
        RaftFsync = false,
    };

    /// <summary>As the compiler would print it, with the gossip key hidden: configs get logged.</summary>
    public override string ToString()
    {
        var shown = Encrypt is null ? this : this with { Encrypt = "(hidden)" };
        var text = new StringBuilder("AgentConfig { ");
        if (shown.PrintMembers(text))
        {
            text.Append(' ');
        }

        return text.Append('}').ToString();
    }

    private static string HostName()
    {
        try
        {
            return System.Net.Dns.GetHostName(); // qualified: Cluster.Agent.Dns is our namespace
        }
        catch (SocketException)
        {
            return Environment.MachineName;
        }
    }
}
