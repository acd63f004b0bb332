using Cluster.Contracts;
using System.Globalization;
using System.Text;

namespace Cluster.Agent.Config;

/// <summary>
/// The command line of <c>cluster agent</c>, with Consul's flag names and Go's flag syntax:
/// <c>-flag=value</c>, <c>-flag value</c> or <c>--flag</c>; a boolean flag alone is true. A flag
/// left out is null: the files or the defaults decide. Flags win over files.
/// </summary>
public sealed record AgentFlags
{
    public bool Dev { get; init; }

    public bool? Server { get; init; }

    public bool? Bootstrap { get; init; }

    public int? BootstrapExpect { get; init; }

    public string? NodeName { get; init; }

    public string? NodeId { get; init; }

    public string? Datacenter { get; init; }

    public string? DataDir { get; init; }

    public string? BindAddr { get; init; }

    public string? AdvertiseAddr { get; init; }

    public string? ClientAddr { get; init; }

    /// <summary>-retry-join and -join, in order.</summary>
    public ValueList<string> RetryJoin { get; init; } = [];

    /// <summary>-retry-join-wan and -join-wan, in order.</summary>
    public ValueList<string> RetryJoinWan { get; init; } = [];

    public TimeSpan? RetryInterval { get; init; }

    public TimeSpan? RetryIntervalWan { get; init; }

    public string? Encrypt { get; init; }

    public int? HttpPort { get; init; }

    public int? HttpsPort { get; init; }

    public int? DnsPort { get; init; }

    public int? GrpcPort { get; init; }

    public int? ServerPort { get; init; }

    public int? SerfLanPort { get; init; }

    public int? SerfWanPort { get; init; }

    public int? ActorsPort { get; init; }

    /// <summary>Every -config-file and -config-dir in command-line order, which is the order they are read in.</summary>
    public ValueList<string> ConfigPaths { get; init; } = [];

    public string? LogLevel { get; init; }

    public bool? Ui { get; init; }

    public bool? EnableScriptChecks { get; init; }

    /// <summary>-h or -help: print <see cref="Usage"/> instead of starting.</summary>
    public bool Help { get; init; }

    private static readonly Flag[] Definitions =
    [
        Bool("dev", "Start a development server: in memory, on loopback, elected alone.", (f, v) => f with { Dev = v }),
        Bool("server", "Run as a server (Raft member) rather than a client agent.", (f, v) => f with { Server = v }),
        Bool("bootstrap", "Elect this server alone; for the very first server only.", (f, v) => f with { Bootstrap = v }),
        Int("bootstrap-expect", "Servers to wait for before electing the first leader.", (f, v) => f with { BootstrapExpect = v }),
        Text("node", "Node name (default: the host name).", (f, v) => f with { NodeName = v }),
        Text("node-id", "Node ID, a UUID (default: made once and kept in the data dir).", (f, v) => f with { NodeId = v }),
        Text("datacenter", "Datacenter (default: dc1).", (f, v) => f with { Datacenter = v }),
        Text("data-dir", "Directory for the agent's state.", (f, v) => f with { DataDir = v }),
        Text("bind", "Address for gossip and server RPC (default: 0.0.0.0).", (f, v) => f with { BindAddr = v }),
        Text("advertise", "Address others reach this node at.", (f, v) => f with { AdvertiseAddr = v }),
        Text("client", "Addresses for HTTP, DNS and gRPC, space-separated (default: 127.0.0.1).", (f, v) => f with { ClientAddr = v }),
        Text("retry-join", "A LAN member to join, retried until it answers; repeatable.", (f, v) => f with { RetryJoin = f.RetryJoin.Add(v) }),
        Text("join", "Same as -retry-join.", (f, v) => f with { RetryJoin = f.RetryJoin.Add(v) }),
        Text("retry-join-wan", "A server in another datacenter to join; repeatable.", (f, v) => f with { RetryJoinWan = f.RetryJoinWan.Add(v) }),
        Text("join-wan", "Same as -retry-join-wan.", (f, v) => f with { RetryJoinWan = f.RetryJoinWan.Add(v) }),
        Duration("retry-interval", "Time between LAN join attempts (default: 30s).", (f, v) => f with { RetryInterval = v }),
        Duration("retry-interval-wan", "Time between WAN join attempts (default: 30s).", (f, v) => f with { RetryIntervalWan = v }),
        Text("encrypt", "Gossip encryption key, base64 (cluster keygen).", (f, v) => f with { Encrypt = v }),
        Int("http-port", "HTTP API port (default: 8500).", (f, v) => f with { HttpPort = v }),
        Int("https-port", "HTTPS API port (default: -1, off).", (f, v) => f with { HttpsPort = v }),
        Int("dns-port", "DNS port (default: 8600).", (f, v) => f with { DnsPort = v }),
        Int("grpc-port", "gRPC (xDS) port (default: 8502).", (f, v) => f with { GrpcPort = v }),
        Int("server-port", "Server RPC port (default: 8300).", (f, v) => f with { ServerPort = v }),
        Int("serf-lan-port", "LAN gossip port (default: 8301).", (f, v) => f with { SerfLanPort = v }),
        Int("serf-wan-port", "WAN gossip port (default: 8302).", (f, v) => f with { SerfWanPort = v }),
        Int("actors-port", "Actor remoting port, between the datacenter's agents (default: 8303).", (f, v) => f with { ActorsPort = v }),
        Text("config-file", "A configuration file (.hcl or .json); repeatable.", (f, v) => f with { ConfigPaths = f.ConfigPaths.Add(v) }),
        Text("config-dir", "A directory whose .hcl and .json files are read in name order; repeatable.", (f, v) => f with { ConfigPaths = f.ConfigPaths.Add(v) }),
        Text("log-level", "trace, debug, info, warn or error (default: info).", (f, v) => f with { LogLevel = v }),
        Bool("ui", "Serve the web UI.", (f, v) => f with { Ui = v }),
        Bool("enable-script-checks", "Allow checks that run scripts (args).", (f, v) => f with { EnableScriptChecks = v }),
    ];

    private static readonly Dictionary<string, Flag> ByName = Definitions.ToDictionary(d => d.Name, StringComparer.Ordinal);

    /// <summary>The flags, one per line with what they do, for -help.</summary>
    public static string Usage { get; } = BuildUsage();

    /// <summary>Reads the agent's flags; an unknown flag, a missing value or a bad one is an <see cref="AgentConfigException"/>.</summary>
    public static AgentFlags Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var flags = new AgentFlags();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                if (i + 1 < args.Count)
                {
                    throw Unexpected(args[i + 1]);
                }

                break;
            }

            if (arg.Length < 2 || arg[0] != '-')
            {
                throw Unexpected(arg);
            }

            var body = arg[1] == '-' ? arg[2..] : arg[1..];
            if (body.Length == 0 || body[0] is '-' or '=')
            {
                throw new AgentConfigException($"bad flag syntax: {arg}");
            }

            var equals = body.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? body : body[..equals];
            string? value = equals < 0 ? null : body[(equals + 1)..];
            if (name is "h" or "help")
            {
                flags = flags with { Help = true };
                continue;
            }

            if (!ByName.TryGetValue(name, out var flag))
            {
                throw new AgentConfigException($"flag provided but not defined: -{name}");
            }

            if (value is null && flag.IsBool)
            {
                value = "true";
            }
            else if (value is null)
            {
                if (i + 1 >= args.Count)
                {
                    throw new AgentConfigException($"flag needs an argument: -{name}");
                }

                value = args[++i];
            }

            flags = flag.Apply(flags, value);
        }

        return flags;
    }

    /// <summary>As the compiler would print it, with the gossip key hidden: configs get logged.</summary>
    public override string ToString()
    {
        var shown = Encrypt is null ? this : this with { Encrypt = "(hidden)" };
        var text = new StringBuilder("AgentFlags { ");
        if (shown.PrintMembers(text))
        {
            text.Append(' ');
        }

        return text.Append('}').ToString();
    }

    private static AgentConfigException Unexpected(string arg) =>
        new($"unexpected argument \"{arg}\": the agent takes only flags (see -help)");

    private static string BuildUsage()
    {
        var usage = new StringBuilder("Usage: cluster agent [options]\n\nOptions:\n");
        foreach (var flag in Definitions)
        {
            usage.Append(CultureInfo.InvariantCulture, $"\n  -{flag.Name}{(flag.IsBool ? "" : "=<value>")}\n      {flag.Help}\n");
        }

        return usage.ToString();
    }

    private static Flag Text(string name, string help, Func<AgentFlags, string, AgentFlags> apply) => new(name, help, false, apply);

    private static Flag Bool(string name, string help, Func<AgentFlags, bool, AgentFlags> apply) =>
        new(name, help, true, (f, v) => apply(f, GoBool.TryParse(v, out var value) ? value : throw new AgentConfigException($"invalid boolean value \"{v}\" for -{name}: parse error")));

    private static Flag Int(string name, string help, Func<AgentFlags, int, AgentFlags> apply) =>
        new(name, help, false, (f, v) => apply(f, ParseInt(name, v)));

    private static Flag Duration(string name, string help, Func<AgentFlags, TimeSpan, AgentFlags> apply) =>
        new(name, help, false, (f, v) => apply(f, GoDuration.TryParse(v, out var value) ? value : throw Invalid(name, v, "parse error")));

    private static int ParseInt(string name, string text)
    {
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        // Go tells a number too big for the flag from one that is no number.
        var digits = text.TrimStart('-', '+');
        throw Invalid(name, text, digits.Length > 0 && digits.All(char.IsAsciiDigit) ? "value out of range" : "parse error");
    }

    private static AgentConfigException Invalid(string name, string value, string why) =>
        new($"invalid value \"{value}\" for flag -{name}: {why}");

    private sealed record Flag(string Name, string Help, bool IsBool, Func<AgentFlags, string, AgentFlags> Apply);
}
