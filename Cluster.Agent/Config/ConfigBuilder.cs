using System.Globalization;
using System.Text.Json.Nodes;
using static Cluster.Agent.Config.SettingNames;

namespace Cluster.Agent.Config;

/// <summary>
/// The merged fragment over the defaults, normalised (lower-case datacenter, join addresses with
/// their port) and checked as a whole; every error names the source of the value it is about.
/// </summary>
internal static class ConfigBuilder
{
    public static AgentConfig Build(ConfigFragment settings, bool dev)
    {
        var start = dev ? AgentConfig.DevDefaults : AgentConfig.Default;
        T Value<T>(string name, T fallback) => settings.Get(name, fallback).Value;

        var ports = new AgentPorts
        {
            Http = Value(HttpPort, start.Ports.Http),
            Https = Value(HttpsPort, start.Ports.Https),
            Grpc = Value(GrpcPort, start.Ports.Grpc),
            Dns = Value(DnsPort, start.Ports.Dns),
            Server = Value(ServerPort, start.Ports.Server),
            SerfLan = Value(SerfLanPort, start.Ports.SerfLan),
            SerfWan = Value(SerfWanPort, start.Ports.SerfWan),
            Actors = Value(ActorsPort, start.Ports.Actors),
        };
        var config = start with
        {
            NodeName = Value(NodeName, start.NodeName),
            NodeId = Value(NodeId, start.NodeId)?.ToLowerInvariant(),
            Datacenter = Value(Datacenter, start.Datacenter).ToLowerInvariant(),
            DataDir = Value(DataDir, start.DataDir),
            Server = Value(SettingNames.Server, start.Server),
            BootstrapExpect = Value(BootstrapExpect, start.BootstrapExpect),
            Bootstrap = Value(Bootstrap, start.Bootstrap),
            BindAddr = Value(BindAddr, start.BindAddr),
            AdvertiseAddr = Value(AdvertiseAddr, start.AdvertiseAddr),
            ClientAddr = Value(ClientAddr, start.ClientAddr),
            Ports = ports,
            RetryJoin = JoinAddresses(settings, RetryJoin, ports.SerfLan),
            RetryJoinWan = JoinAddresses(settings, RetryJoinWan, ports.SerfWan),
            RetryInterval = Value(RetryInterval, start.RetryInterval),
            RetryIntervalWan = Value(RetryIntervalWan, start.RetryIntervalWan),
            Encrypt = Value(Encrypt, start.Encrypt),
            LogLevel = Value(LogLevel, start.LogLevel).ToLowerInvariant(),
            UiEnabled = Value(UiEnabled, start.UiEnabled),
            EnableScriptChecks = Value(EnableScriptChecks, start.EnableScriptChecks),
            RaftFsync = Value(RaftFsync, start.RaftFsync),
            Services = ValueList.From(settings.List<ServiceDefinition>(Services).Select(s => s.Value)),
            Checks = ValueList.From(settings.List<CheckDefinition>(SettingNames.Checks).Select(c => c.Value)),
            ConfigEntriesBootstrap = ValueList.From(settings.List<JsonObject>(ConfigEntriesBootstrap).Select(e => e.Value)),
        };

        var validator = new ConfigValidator(settings);
        return validator.Validate(config);
    }

    /// <summary>"host" becomes "host:port" with the agent's own gossip port, as Consul joins; cloud auto-join strings stay as written.</summary>
    private static ValueList<string> JoinAddresses(ConfigFragment settings, string name, int defaultPort) =>
        ValueList.From(settings.List<string>(name).Select(entry => JoinAddress(entry.Value, entry.Origin, name, defaultPort)));

    private static string JoinAddress(string entry, Origin origin, string name, int defaultPort)
    {
        var address = entry.Trim();
        if (address.Contains("provider=", StringComparison.Ordinal))
        {
            return address;
        }

        string host;
        string? port = null;
        if (address.StartsWith('['))
        {
            var close = address.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || (close + 1 < address.Length && address[close + 1] != ':'))
            {
                throw origin.Error($"{name}: \"{entry}\" is not host, host:port or [ipv6]:port");
            }

            host = address[..(close + 1)];
            port = close + 1 < address.Length ? address[(close + 2)..] : null;
        }
        else if (address.Count(c => c == ':') > 1)
        {
            host = $"[{address}]"; // a bare IPv6 address
        }
        else
        {
            var colon = address.IndexOf(':', StringComparison.Ordinal);
            host = colon < 0 ? address : address[..colon];
            port = colon < 0 ? null : address[(colon + 1)..];
        }

        if (host.Length == 0 || host == "[]")
        {
            throw origin.Error($"{name}: \"{entry}\" has no host");
        }

        if (port is not null && !(int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number is >= 1 and <= 65535))
        {
            throw origin.Error($"{name}: \"{entry}\" has a bad port (1 to 65535)");
        }

        return $"{host}:{port ?? defaultPort.ToString(CultureInfo.InvariantCulture)}";
    }
}
