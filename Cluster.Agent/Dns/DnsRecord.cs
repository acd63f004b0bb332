using System.Net;
using System.Net.Sockets;

namespace Cluster.Agent.Dns;

/// <summary>A resource record of class IN; <see cref="Name"/> has no trailing dot.</summary>
public abstract record DnsRecord(string Name, uint Ttl)
{
    public abstract DnsType Type { get; }

    internal abstract void WriteData(DnsMessageWriter writer);
}

/// <summary>A or AAAA, by the address's family.</summary>
public sealed record DnsAddressRecord(string Name, uint Ttl, IPAddress Address) : DnsRecord(Name, Ttl)
{
    public override DnsType Type => Address.AddressFamily == AddressFamily.InterNetworkV6 ? DnsType.Aaaa : DnsType.A;

    internal override void WriteData(DnsMessageWriter writer) => writer.WriteAddress(Address);
}

public sealed record DnsCNameRecord(string Name, uint Ttl, string Target) : DnsRecord(Name, Ttl)
{
    public override DnsType Type => DnsType.CName;

    internal override void WriteData(DnsMessageWriter writer) => writer.WriteName(Target);
}

public sealed record DnsNsRecord(string Name, uint Ttl, string Target) : DnsRecord(Name, Ttl)
{
    public override DnsType Type => DnsType.NS;

    internal override void WriteData(DnsMessageWriter writer) => writer.WriteName(Target);
}

/// <summary>RFC 2782. Its target is never compressed (the RFC forbids it), though later names may point into it.</summary>
public sealed record DnsSrvRecord(string Name, uint Ttl, ushort Priority, ushort Weight, ushort Port, string Target) : DnsRecord(Name, Ttl)
{
    public override DnsType Type => DnsType.Srv;

    internal override void WriteData(DnsMessageWriter writer)
    {
        writer.WriteUInt16(Priority);
        writer.WriteUInt16(Weight);
        writer.WriteUInt16(Port);
        writer.WriteName(Target, compress: false);
    }
}

public sealed record DnsSoaRecord(
    string Name,
    uint Ttl,
    string PrimaryServer,
    string Mailbox,
    uint Serial,
    uint Refresh,
    uint Retry,
    uint Expire,
    uint Minimum) : DnsRecord(Name, Ttl)
{
    public override DnsType Type => DnsType.Soa;

    internal override void WriteData(DnsMessageWriter writer)
    {
        writer.WriteName(PrimaryServer);
        writer.WriteName(Mailbox);
        writer.WriteUInt32(Serial);
        writer.WriteUInt32(Refresh);
        writer.WriteUInt32(Retry);
        writer.WriteUInt32(Expire);
        writer.WriteUInt32(Minimum);
    }
}

/// <summary>What the resolver answers: the response code, whether we are authoritative, and the three record sections.</summary>
public sealed record DnsAnswer(
    DnsResponseCode Code,
    bool Authoritative,
    IReadOnlyList<DnsRecord> Answers,
    IReadOnlyList<DnsRecord> Authority,
    IReadOnlyList<DnsRecord> Additional)
{
    public static DnsAnswer Refused { get; } = new(DnsResponseCode.Refused, false, [], [], []);

    public static DnsAnswer ServerFailure { get; } = new(DnsResponseCode.ServerFailure, false, [], [], []);
}
