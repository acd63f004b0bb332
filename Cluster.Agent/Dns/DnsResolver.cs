using System.Net;
using System.Net.Sockets;

namespace Cluster.Agent.Dns;

/// <summary>
/// Answers a question as Consul's DNS interface does: services (passing instances only by
/// default, never critical ones, in random order), nodes, the synthetic `addr` names of SRV
/// targets, and the domain's SOA and NS. Unknown names under the domain are NXDOMAIN, known
/// names without records of the type asked are NODATA, both with the SOA for negative caching;
/// names outside the domain are refused, since we do not recurse.
/// </summary>
public sealed class DnsResolver
{
    private const uint SoaRefresh = 3600;
    private const uint SoaRetry = 600;
    private const uint SoaExpire = 86400;
    private readonly IDnsCatalog _catalog;
    private readonly DnsOptions _options;
    private readonly Random _random;
    private readonly TimeProvider _time;
    private readonly string[] _domain;
    private readonly uint _nodeTtl;
    private readonly uint _serviceTtl;
    private readonly uint _negativeTtl;

    public DnsResolver(IDnsCatalog catalog, DnsOptions options, Random random, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _catalog = catalog ?? throw new ArgumentNullException(nameof(catalog));
        _options = options;
        _random = random ?? throw new ArgumentNullException(nameof(random));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _domain = options.Domain.TrimEnd('.').Split('.');
        if (_domain.Any(l => l.Length is 0 or > DnsWire.MaxLabelLength))
        {
            throw new ArgumentException($"domain \"{options.Domain}\" is not a valid DNS name", nameof(options));
        }

        _nodeTtl = Seconds(options.NodeTtl);
        _serviceTtl = Seconds(options.ServiceTtl);
        _negativeTtl = Seconds(options.SoaMinTtl);
    }

    public async ValueTask<DnsAnswer> ResolveAsync(DnsQuestion question, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(question);
        if (question.Class is not (DnsWire.ClassIn or DnsWire.ClassAny) || !InDomain(question.Labels))
        {
            return DnsAnswer.Refused;
        }

        // Names we make up end in the question's own spelling of the domain, so they compress to it.
        var domain = DomainSuffix(question);
        var name = DnsName.Parse(question.Labels, question.Labels.Count - _domain.Length);
        var datacenter = name.Datacenter is { } dc && !dc.Equals(_options.Datacenter, StringComparison.OrdinalIgnoreCase) ? dc : null;
        return name.Kind switch
        {
            DnsNameKind.Apex => Apex(question, domain),
            DnsNameKind.NameServer => Addresses(question, domain, [_options.NameServerAddress.ToString()], _nodeTtl),
            DnsNameKind.Node => await NodeAsync(question, domain, name.Value, datacenter, cancellationToken),
            DnsNameKind.Service => await ServiceAsync(question, domain, name, datacenter, cancellationToken),
            DnsNameKind.Address => HexAddress(name.Value) is { } address
                ? Addresses(question, domain, [address.ToString()], _nodeTtl)
                : Negative(DnsResponseCode.NameError, domain),
            _ => Negative(DnsResponseCode.NameError, domain),
        };
    }

    private DnsAnswer Apex(DnsQuestion question, string domain)
    {
        var answers = new List<DnsRecord>(2);
        var additional = new List<DnsRecord>(1);
        if (question.Type is DnsType.Soa or DnsType.Any)
        {
            answers.Add(Soa(domain));
        }

        if (question.Type is DnsType.NS or DnsType.Any)
        {
            var server = "ns." + domain;
            answers.Add(new DnsNsRecord(question.Name, _nodeTtl, server));
            additional.Add(new DnsAddressRecord(server, _nodeTtl, _options.NameServerAddress));
        }

        return answers.Count == 0 ? Negative(DnsResponseCode.NoError, domain) : new DnsAnswer(DnsResponseCode.NoError, true, answers, [], additional);
    }

    private async ValueTask<DnsAnswer> NodeAsync(DnsQuestion question, string domain, string node, string? datacenter, CancellationToken cancellationToken)
    {
        var found = await _catalog.NodeAsync(node, datacenter, cancellationToken);
        return found is null ? Negative(DnsResponseCode.NameError, domain) : Addresses(question, domain, [found.Address], _nodeTtl);
    }

    private async ValueTask<DnsAnswer> ServiceAsync(DnsQuestion question, string domain, DnsName name, string? datacenter, CancellationToken cancellationToken)
    {
        var all = await _catalog.ServiceInstancesAsync(name.Value, name.Tag, datacenter, cancellationToken);
        var instances = new List<DnsServiceInstance>(all.Count);
        foreach (var instance in all)
        {
            if (instance.Health == DnsHealth.Passing || (instance.Health == DnsHealth.Warning && !_options.OnlyPassing))
            {
                instances.Add(instance);
            }
        }

        if (instances.Count == 0)
        {
            return Negative(DnsResponseCode.NameError, domain);
        }

        Shuffle(instances);
        if (question.Type != DnsType.Srv)
        {
            var addresses = new List<string>(instances.Count);
            foreach (var instance in instances)
            {
                addresses.Add(instance.Address);
            }

            return Addresses(question, domain, addresses, _serviceTtl);
        }

        var dc = datacenter ?? _options.Datacenter;
        var answers = new List<DnsRecord>(instances.Count);
        var additional = new List<DnsRecord>(instances.Count);
        var targets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var instance in instances)
        {
            var (target, address) = SrvTarget(instance, dc, domain);
            var weight = instance.Health == DnsHealth.Passing ? instance.WeightPassing : instance.WeightWarning;
            answers.Add(new DnsSrvRecord(question.Name, _serviceTtl, 1, (ushort)Math.Clamp(weight, 0, ushort.MaxValue), (ushort)instance.Port, target));
            if (address is not null && targets.Add(target))
            {
                additional.Add(new DnsAddressRecord(target, _nodeTtl, address));
            }
        }

        return new DnsAnswer(DnsResponseCode.NoError, true, answers, [], additional);
    }

    /// <summary>
    /// An instance at its node's address is `node.node.dc.domain`; one with an IP of its own is
    /// `hex-ip.addr.dc.domain` (Consul's form, resolvable on its own); one with a host name is
    /// that host name, with no glue, since it is not ours to answer.
    /// </summary>
    private static (string Target, IPAddress? Address) SrvTarget(DnsServiceInstance instance, string datacenter, string domain)
    {
        var own = instance.ServiceAddress.Length > 0 && instance.ServiceAddress != instance.NodeAddress;
        if (!own)
        {
            var nodeIp = IPAddress.TryParse(instance.NodeAddress, out var parsed) ? parsed : null;
            return ($"{instance.NodeName}.node.{datacenter}.{domain}", nodeIp);
        }

        return IPAddress.TryParse(instance.ServiceAddress, out var ip)
            ? ($"{Convert.ToHexStringLower(ip.GetAddressBytes())}.addr.{datacenter}.{domain}", ip)
            : (instance.ServiceAddress.TrimEnd('.'), null);
    }

    /// <summary>A, AAAA (or both for ANY) for the addresses that are IPs, a CNAME for each host name; duplicates once.</summary>
    private DnsAnswer Addresses(DnsQuestion question, string domain, List<string> addresses, uint ttl)
    {
        var answers = new List<DnsRecord>(addresses.Count);
        HashSet<string>? seen = addresses.Count > 1 ? new(StringComparer.Ordinal) : null;
        foreach (var address in addresses)
        {
            if (seen is not null && !seen.Add(address))
            {
                continue;
            }

            if (!IPAddress.TryParse(address, out var ip))
            {
                if (question.Type is DnsType.A or DnsType.Aaaa or DnsType.Any && address.Length > 0)
                {
                    answers.Add(new DnsCNameRecord(question.Name, ttl, address.TrimEnd('.')));
                }

                continue;
            }

            var type = ip.AddressFamily == AddressFamily.InterNetworkV6 ? DnsType.Aaaa : DnsType.A;
            if (question.Type == type || question.Type == DnsType.Any)
            {
                answers.Add(new DnsAddressRecord(question.Name, ttl, ip));
            }
        }

        return answers.Count == 0 ? Negative(DnsResponseCode.NoError, domain) : new DnsAnswer(DnsResponseCode.NoError, true, answers, [], []);
    }

    private DnsAnswer Negative(DnsResponseCode code, string domain) => new(code, true, [], [Soa(domain)], []);

    private DnsSoaRecord Soa(string domain) =>
        new(domain, _negativeTtl, "ns." + domain, "hostmaster." + domain, (uint)_time.GetUtcNow().ToUnixTimeSeconds(), SoaRefresh, SoaRetry, SoaExpire, _negativeTtl);

    private bool InDomain(IReadOnlyList<string> labels)
    {
        if (labels.Count < _domain.Length)
        {
            return false;
        }

        var offset = labels.Count - _domain.Length;
        for (var i = 0; i < _domain.Length; i++)
        {
            if (!labels[offset + i].Equals(_domain[i], StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }

    private string DomainSuffix(DnsQuestion question)
    {
        var length = _domain.Length - 1;
        foreach (var label in _domain)
        {
            length += label.Length;
        }

        return question.Name[^length..];
    }

    private void Shuffle(List<DnsServiceInstance> instances)
    {
        lock (_random)
        {
            for (var i = instances.Count - 1; i > 0; i--)
            {
                var j = _random.Next(i + 1);
                (instances[i], instances[j]) = (instances[j], instances[i]);
            }
        }
    }

    private static IPAddress? HexAddress(string hex)
    {
        if (hex.Length is not (8 or 32))
        {
            return null;
        }

        var bytes = new byte[hex.Length / 2];
        return Convert.FromHexString(hex, bytes, out _, out var written) == System.Buffers.OperationStatus.Done && written == bytes.Length
            ? new IPAddress(bytes)
            : null;
    }

    private static uint Seconds(TimeSpan ttl) => (uint)Math.Clamp(ttl.TotalSeconds, 0, int.MaxValue);
}
