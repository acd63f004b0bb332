namespace Cluster.Agent.Dns;

/// <summary>What a name under the domain asks for, as Consul reads it.</summary>
internal enum DnsNameKind
{
    /// <summary>Nothing we know: NXDOMAIN.</summary>
    Unknown,

    /// <summary>The domain itself (SOA, NS).</summary>
    Apex,

    /// <summary>`ns.&lt;domain&gt;`: the name our NS record gives, this agent.</summary>
    NameServer,

    /// <summary>`[tag.]service.service[.dc]`, or RFC 2782's `_service._tag.service[.dc]`.</summary>
    Service,

    /// <summary>`node.node[.dc]`.</summary>
    Node,

    /// <summary>`hex-ip.addr[.dc]`: the synthetic SRV target of a service with an address of its own.</summary>
    Address,
}

/// <summary>A name under the domain taken apart: its kind, its first and second parts (service and tag; node; hex address) and its datacenter (null: ours).</summary>
internal readonly record struct DnsName(DnsNameKind Kind, string Value, string? Tag, string? Datacenter)
{
    /// <summary>Reads the labels before the domain (<paramref name="count"/> of them).</summary>
    public static DnsName Parse(IReadOnlyList<string> labels, int count)
    {
        if (count == 0)
        {
            return new(DnsNameKind.Apex, "", null, null);
        }

        if (count == 1 && labels[0].Equals("ns", StringComparison.OrdinalIgnoreCase))
        {
            return new(DnsNameKind.NameServer, "", null, null);
        }

        // The kind label is last, or next to last with the datacenter after it.
        int kindAt;
        string? datacenter = null;
        if (KindOf(labels[count - 1]) is not DnsNameKind.Unknown)
        {
            kindAt = count - 1;
        }
        else if (count >= 2 && KindOf(labels[count - 2]) is not DnsNameKind.Unknown)
        {
            kindAt = count - 2;
            datacenter = labels[count - 1];
        }
        else
        {
            return default;
        }

        var kind = KindOf(labels[kindAt]);
        return (kind, kindAt) switch
        {
            (DnsNameKind.Service, 1) => new(kind, labels[0], null, datacenter),
            (DnsNameKind.Service, 2) when IsRfc2782(labels[0]) && IsRfc2782(labels[1]) =>
                new(kind, labels[0][1..], labels[1].Equals("_tcp", StringComparison.OrdinalIgnoreCase) ? null : labels[1][1..], datacenter),
            (DnsNameKind.Service, 2) => new(kind, labels[1], labels[0], datacenter),
            (DnsNameKind.Node or DnsNameKind.Address, 1) => new(kind, labels[0], null, datacenter),
            _ => default,
        };
    }

    private static bool IsRfc2782(string label) => label.Length > 1 && label[0] == '_';

    private static DnsNameKind KindOf(string label) =>
        label.Equals("service", StringComparison.OrdinalIgnoreCase) ? DnsNameKind.Service
        : label.Equals("node", StringComparison.OrdinalIgnoreCase) ? DnsNameKind.Node
        : label.Equals("addr", StringComparison.OrdinalIgnoreCase) ? DnsNameKind.Address
        : DnsNameKind.Unknown;
}
