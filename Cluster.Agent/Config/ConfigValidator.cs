using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using static Cluster.Agent.Config.SettingNames;

namespace Cluster.Agent.Config;

/// <summary>
/// The checks Consul makes once every source is merged: settings that each parsed but make no
/// sense alone or together. A bad value is blamed on the file position or the flag it came from.
/// </summary>
internal sealed partial class ConfigValidator(ConfigFragment settings)
{
    private static readonly string[] LogLevels = ["trace", "debug", "info", "warn", "error"];

    private readonly List<string> _warnings = [];

    public AgentConfig Validate(AgentConfig config)
    {
        Identity(config);
        config = Bootstrapping(config);
        Addresses(config);
        Ports(config.Ports);
        Joining(config);
        if (config.Encrypt is { } key && !IsGossipKey(key))
        {
            throw Error(Encrypt, "encrypt is not a gossip key: it must be the base64 of 16, 24 or 32 bytes (cluster keygen makes one)");
        }

        if (!LogLevels.Contains(config.LogLevel))
        {
            throw Error(LogLevel, $"log_level must be one of {string.Join(", ", LogLevels)}, not \"{config.LogLevel}\"");
        }

        UniqueIds();
        var scriptCheck = settings.List<Origin>(ScriptChecks).Select(s => s.Value).FirstOrDefault();
        if (!config.EnableScriptChecks && scriptCheck != Origin.Default)
        {
            throw scriptCheck.Error("script checks (args) are off on this agent: set enable_script_checks = true or -enable-script-checks to run them");
        }

        return config with { Warnings = ValueList.From(_warnings) };
    }

    private void Identity(AgentConfig config)
    {
        if (config.Datacenter.Length == 0)
        {
            throw Error(Datacenter, "datacenter cannot be empty");
        }

        if (!DatacenterPattern().IsMatch(config.Datacenter))
        {
            throw Error(Datacenter, $"datacenter \"{config.Datacenter}\" can only have lower-case letters, digits, '-' and '_'");
        }

        if (config.NodeName.Length == 0)
        {
            throw Error(NodeName, "node_name cannot be empty");
        }

        if (!NodeNamePattern().IsMatch(config.NodeName))
        {
            var problem = $"node_name \"{config.NodeName}\" is not valid in DNS: at most 63 letters, digits and '-'";
            throw OriginOf(NodeName) == Origin.Default ? new AgentConfigException($"{problem}; the host name is used when none is set, so set node_name or -node") : Error(NodeName, problem);
        }

        if (config.NodeId is { } id && !Guid.TryParseExact(id, "D", out _))
        {
            throw Error(NodeId, $"node_id \"{id}\" is not a UUID (as in 9f1c7a3e-5b7d-4c2e-8a1f-2b3c4d5e6f70)");
        }

        if (!config.Dev && string.IsNullOrEmpty(config.DataDir))
        {
            throw Error(DataDir, "data_dir cannot be empty");
        }

        if (config.DataDir is { Length: > 0 } dir && File.Exists(dir))
        {
            throw Error(DataDir, $"data_dir \"{dir}\" is a file, not a directory");
        }
    }

    private AgentConfig Bootstrapping(AgentConfig config)
    {
        var expect = config.BootstrapExpect;
        if (expect < 0)
        {
            throw Error(BootstrapExpect, $"bootstrap_expect cannot be negative, not {expect}");
        }

        if (expect > 0 && !config.Server)
        {
            throw Error(BootstrapExpect, $"bootstrap_expect = {expect} needs server mode (server = true or -server)");
        }

        if (expect > 0 && config.Dev)
        {
            throw Error(BootstrapExpect, $"bootstrap_expect = {expect} is not allowed in dev mode, where the server elects itself");
        }

        if (expect > 0 && config.Bootstrap)
        {
            throw Error(BootstrapExpect, "bootstrap_expect and bootstrap cannot both be set: bootstrap is a server that elects itself");
        }

        if (config.Bootstrap && !config.Server)
        {
            throw Error(Bootstrap, "bootstrap = true needs server mode (server = true or -server)");
        }

        switch (expect)
        {
            case 1:
                _warnings.Add("bootstrap_expect = 1 is bootstrap = true: this server elects itself without waiting for others");
                return config with { BootstrapExpect = 0, Bootstrap = true };
            case 2:
                _warnings.Add("bootstrap_expect = 2: two servers tolerate no failure (losing either stops the cluster); use 3 or 5");
                break;
            case > 2 when expect % 2 == 0:
                _warnings.Add($"bootstrap_expect = {expect}: an even number of servers tolerates no more failures than {expect - 1}; use an odd number");
                break;
        }

        if (config.Bootstrap && !config.Dev)
        {
            _warnings.Add("bootstrap = true: this server elects itself; do not keep it on once the cluster has formed");
        }

        return config;
    }

    private void Addresses(AgentConfig config)
    {
        if (!IsIp(config.BindAddr))
        {
            throw Error(BindAddr, NotAnAddress("bind_addr", config.BindAddr));
        }

        if (config.AdvertiseAddr is { } advertise)
        {
            if (!IsIp(advertise))
            {
                throw Error(AdvertiseAddr, NotAnAddress("advertise_addr", advertise));
            }

            if (IPAddress.Parse(advertise).Equals(IPAddress.Any) || IPAddress.Parse(advertise).Equals(IPAddress.IPv6Any))
            {
                throw Error(AdvertiseAddr, $"advertise_addr cannot be {advertise}: others need an address they can reach");
            }
        }

        var clients = config.ClientAddr.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (clients.Length == 0)
        {
            throw Error(ClientAddr, "client_addr cannot be empty");
        }

        if (clients.FirstOrDefault(c => !IsIp(c)) is { } bad)
        {
            throw Error(ClientAddr, NotAnAddress("client_addr", bad));
        }
    }

    private void Ports(AgentPorts ports)
    {
        (string Name, int Port, bool MayBeOff)[] all =
        [
            (HttpPort, ports.Http, true), (HttpsPort, ports.Https, true), (GrpcPort, ports.Grpc, true), (DnsPort, ports.Dns, true),
            (ServerPort, ports.Server, false), (SerfLanPort, ports.SerfLan, false), (SerfWanPort, ports.SerfWan, true),
            (ActorsPort, ports.Actors, false),
        ];
        foreach (var (name, port, mayBeOff) in all)
        {
            // 0 asks the kernel for a free port (tests and side-by-side agents read the chosen ones from the start lines).
            if (port is < 0 or > 65535 && !(mayBeOff && port == AgentPorts.Disabled))
            {
                throw Error(name, $"{name} must be 0 to 65535{(mayBeOff ? " (or -1 to turn it off)" : "")}, not {port}");
            }
        }

        var owners = new Dictionary<int, string>();
        foreach (var (name, port, _) in all)
        {
            if (port is not (AgentPorts.Disabled or 0) && !owners.TryAdd(port, name))
            {
                throw Error(name, $"{name} and {owners[port]} are both {port}");
            }
        }
    }

    private void Joining(AgentConfig config)
    {
        if (config.RetryInterval <= TimeSpan.Zero)
        {
            throw Error(RetryInterval, "retry_interval must be positive");
        }

        if (config.RetryIntervalWan <= TimeSpan.Zero)
        {
            throw Error(RetryIntervalWan, "retry_interval_wan must be positive");
        }

        if (config.RetryJoinWan.Count > 0 && !config.Server)
        {
            throw settings.List<string>(RetryJoinWan).First().Origin.Error("retry_join_wan needs server mode: only servers gossip over the WAN");
        }

        if (config.RetryJoinWan.Count > 0 && config.Ports.SerfWan == AgentPorts.Disabled)
        {
            throw settings.List<string>(RetryJoinWan).First().Origin.Error("retry_join_wan needs ports.serf_wan, which is off (-1)");
        }
    }

    /// <summary>Service IDs, and check IDs (top-level and the services' own), are each one instance on the agent.</summary>
    private void UniqueIds()
    {
        var services = new Dictionary<string, Origin>(StringComparer.Ordinal);
        var checks = new Dictionary<string, Origin>(StringComparer.Ordinal);
        void Claim(Dictionary<string, Origin> taken, string what, string id, Origin origin)
        {
            if (!taken.TryAdd(id, origin))
            {
                var first = taken[id].Position is { } at ? $" (first at {at})" : "";
                throw origin.Error($"{what} id \"{id}\" is defined twice{first}: give one an id of its own");
            }
        }

        foreach (var (service, origin) in settings.List<ServiceDefinition>(Services))
        {
            Claim(services, "service", service.Id, origin);
            foreach (var check in service.AllChecks)
            {
                Claim(checks, "check", check.Id, origin);
            }
        }

        foreach (var (check, origin) in settings.List<CheckDefinition>(SettingNames.Checks))
        {
            Claim(checks, "check", check.Id, origin);
        }
    }

    private AgentConfigException Error(string name, string problem) => OriginOf(name).Error(problem);

    private Origin OriginOf(string name) => settings.OriginOf(name);

    private static string NotAnAddress(string name, string value) =>
        value.Contains("{{", StringComparison.Ordinal)
            ? $"{name} \"{value}\" is a go-sockaddr template, which this agent does not expand: give an IP address"
            : $"{name} \"{value}\" is not an IP address";

    private static bool IsIp(string text) =>
        IPAddress.TryParse(text, out var address)
        && (address.AddressFamily == AddressFamily.InterNetworkV6 ? text.Contains(':', StringComparison.Ordinal) : text.Count(c => c == '.') == 3);

    private static bool IsGossipKey(string key)
    {
        var bytes = new byte[key.Length];
        return Convert.TryFromBase64String(key, bytes, out var length) && length is 16 or 24 or 32;
    }

    [GeneratedRegex("^[a-z0-9_-]+$")]
    private static partial Regex DatacenterPattern();

    [GeneratedRegex("^[A-Za-z0-9-]{1,63}$")]
    private static partial Regex NodeNamePattern();
}
