using System.Net;

namespace Cluster.Agent.Dns;

/// <summary>How the agent's DNS interface answers (Consul's `domain` and `dns_config`) and its listener limits.</summary>
public sealed record DnsOptions
{
    /// <summary>The domain served, without the trailing dot.</summary>
    public string Domain { get; init; } = "consul";

    /// <summary>This agent's datacenter: names without a datacenter label mean it.</summary>
    public required string Datacenter { get; init; }

    /// <summary>The address `ns.&lt;domain&gt;` (the NS record's glue) resolves to: this agent's.</summary>
    public IPAddress NameServerAddress { get; init; } = IPAddress.Loopback;

    public TimeSpan NodeTtl { get; init; } = TimeSpan.Zero;

    public TimeSpan ServiceTtl { get; init; } = TimeSpan.Zero;

    /// <summary>The SOA's minimum, which is the TTL of negative answers (RFC 2308).</summary>
    public TimeSpan SoaMinTtl { get; init; } = TimeSpan.Zero;

    /// <summary>Answer only passing instances; when false, warning ones too. Critical ones never.</summary>
    public bool OnlyPassing { get; init; } = true;

    /// <summary>The largest UDP answer we send to an EDNS0 client, whatever larger size it offers.</summary>
    public int MaxUdpPayload { get; init; } = 4096;

    public int MaxTcpConnections { get; init; } = 256;

    /// <summary>A TCP connection with no query for this long is closed.</summary>
    public TimeSpan TcpIdleTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
