using System.Globalization;

namespace Cluster.Testing.Jepsen;

/// <summary>
/// Hosts on one machine: a network namespace per host, each with its own address on a bridge in
/// the root namespace (where the test's clients run), so that servers can be partitioned from
/// one another while clients still reach them. A partition is a set of iptables DROP rules in
/// the namespaces (packets vanish: connects hang and established streams stall, as on a real
/// network), healed by flushing them. Needs root, iproute2 and iptables; everything it creates
/// carries one random subnet number and is removed on dispose.
/// </summary>
public sealed class NetworkLab : IAsyncDisposable
{
    private readonly int _subnet;
    private readonly int _hosts;
    private bool _forwardRule;

    private NetworkLab(int subnet, int hosts)
    {
        _subnet = subnet;
        _hosts = hosts;
    }

    /// <summary>Why a lab cannot be made here (null when it can): root, ip and iptables are needed.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            return "network namespaces need root on Linux";
        }

        foreach (var tool in new[] { "ip", "iptables" })
        {
            if (!Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(dir => File.Exists(Path.Combine(dir, tool))))
            {
                return $"{tool} is not installed (apt-get install iproute2 iptables)";
            }
        }

        return null;
    }

    /// <summary>The bridge's address: what the hosts see the clients as.</summary>
    public string Gateway => $"10.213.{_subnet}.1";

    /// <summary>Creates <paramref name="hosts"/> namespaces on a fresh subnet 10.213.X.0/24.</summary>
    public static async Task<NetworkLab> CreateAsync(int hosts, int seed)
    {
        if (Unavailable() is { } why)
        {
            throw new InvalidOperationException(why);
        }

        var taken = await RunAsync("ip", "-o", "addr");
        var random = new Random(seed ^ Environment.ProcessId);
        int subnet;
        do
        {
            subnet = random.Next(1, 255);
        }
        while (taken.Contains($"10.213.{subnet}.", StringComparison.Ordinal) || Directory.Exists($"/run/netns/j{subnet}-1"));

        var lab = new NetworkLab(subnet, hosts);
        try
        {
            await lab.BuildAsync();
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }

        return lab;
    }

    public string Namespace(int host) => $"j{_subnet}-{host + 1}";

    public string Address(int host) => $"10.213.{_subnet}.{host + 11}";

    /// <summary>The command prefix that runs a program inside <paramref name="host"/>'s namespace.</summary>
    public IReadOnlyList<string> Launcher(int host) => ["ip", "netns", "exec", Namespace(host)];

    /// <summary>
    /// Cuts every host in <paramref name="side"/> off from every host outside it, both ways, or only
    /// traffic to <paramref name="port"/> (TCP and UDP) when given. Clients still reach all.
    /// </summary>
    public async Task PartitionAsync(IReadOnlyCollection<int> side, int? port = null)
    {
        ArgumentNullException.ThrowIfNull(side);
        foreach (var inside in side)
        {
            foreach (var outside in Enumerable.Range(0, _hosts).Where(h => !side.Contains(h)))
            {
                await DropAsync(inside, outside, port);
                await DropAsync(outside, inside, port);
            }
        }
    }

    /// <summary>In <paramref name="host"/>, drops what comes from <paramref name="from"/> (to <paramref name="port"/> only, if given).</summary>
    private async Task DropAsync(int host, int from, int? port)
    {
        string[] prefix = ["ip", "netns", "exec", Namespace(host), "iptables", "-A", "INPUT", "-s", Address(from)];
        if (port is not { } p)
        {
            await RunAsync([.. prefix, "-j", "DROP"]);
            return;
        }

        foreach (var protocol in new[] { "tcp", "udp" })
        {
            await RunAsync([.. prefix, "-p", protocol, "--dport", p.ToString(CultureInfo.InvariantCulture), "-j", "DROP"]);
        }
    }

    /// <summary>Removes every partition rule.</summary>
    public async Task HealAsync()
    {
        for (var host = 0; host < _hosts; host++)
        {
            await RunAsync("ip", "netns", "exec", Namespace(host), "iptables", "-F", "INPUT");
        }
    }

    public async ValueTask DisposeAsync()
    {
        for (var host = 0; host < _hosts; host++)
        {
            await TryRunAsync("ip", "link", "del", Veth(host)); // both ends, even if a process still holds the namespace
            await TryRunAsync("ip", "netns", "del", Namespace(host));
        }

        await TryRunAsync("ip", "link", "del", Bridge);
        if (_forwardRule)
        {
            await TryRunAsync("iptables", "-D", "FORWARD", "-i", Bridge, "-o", Bridge, "-j", "ACCEPT");
        }
    }

    private string Bridge => $"jb{_subnet}";

    private string Veth(int host) => $"jv{_subnet}-{host + 1}";

    private async Task BuildAsync()
    {
        await RunAsync("ip", "link", "add", Bridge, "type", "bridge");
        await RunAsync("ip", "addr", "add", $"{Gateway}/24", "dev", Bridge);
        await RunAsync("ip", "link", "set", Bridge, "up");
        // Where bridged traffic passes through the root namespace's iptables (br_netfilter, as with
        // Docker's FORWARD DROP policy), let ours through.
        if (File.Exists("/proc/sys/net/bridge/bridge-nf-call-iptables") && (await File.ReadAllTextAsync("/proc/sys/net/bridge/bridge-nf-call-iptables")).Trim() == "1")
        {
            await RunAsync("iptables", "-I", "FORWARD", "-i", Bridge, "-o", Bridge, "-j", "ACCEPT");
            _forwardRule = true;
        }

        for (var host = 0; host < _hosts; host++)
        {
            var ns = Namespace(host);
            var veth = Veth(host);
            await RunAsync("ip", "netns", "add", ns);
            await RunAsync("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns);
            await RunAsync("ip", "link", "set", veth, "master", Bridge, "up");
            await RunAsync("ip", "-n", ns, "addr", "add", $"{Address(host)}/24", "dev", "eth0");
            await RunAsync("ip", "-n", ns, "link", "set", "eth0", "up");
            await RunAsync("ip", "-n", ns, "link", "set", "lo", "up");
        }
    }

    private static async Task TryRunAsync(params string[] args)
    {
        try
        {
            await RunAsync(args);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    private static async Task<string> RunAsync(params string[] args)
    {
        var (exitCode, stdout, stderr) = await PeerProcess.RunAsync(args[0], args[1..], TimeSpan.FromSeconds(30));
        return exitCode == 0 ? stdout : throw new InvalidOperationException($"{string.Join(' ', args)} failed ({exitCode}): {stderr.Trim()}");
    }
}
