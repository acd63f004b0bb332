namespace Cluster.Agent.Dns;

/// <summary>The one question of a query. <see cref="Name"/> keeps the asker's casing; it is <see cref="Labels"/> joined by dots (empty for the root).</summary>
public sealed record DnsQuestion(string Name, IReadOnlyList<string> Labels, DnsType Type, ushort Class);

/// <summary>The EDNS0 OPT record of a query (RFC 6891): the UDP payload the client can take and its EDNS version.</summary>
public readonly record struct DnsEdns(ushort UdpPayloadSize, byte Version, bool DnssecOk);

/// <summary>A well-formed standard query: its ID and header flags, its question and its OPT record if any.</summary>
public sealed record DnsQuery(ushort Id, ushort Flags, DnsQuestion Question, DnsEdns? Edns)
{
    public bool RecursionDesired => (Flags & DnsWire.RecursionDesired) != 0;
}

/// <summary>What reading a packet as a query gave.</summary>
public enum DnsReadOutcome
{
    Query,

    /// <summary>Not a query we can read: answer FORMERR.</summary>
    FormatError,

    /// <summary>An opcode other than QUERY: answer NOTIMP.</summary>
    NotImplemented,

    /// <summary>Nothing to answer: too short to carry an ID, or a response (answering responses invites loops).</summary>
    Ignore,
}
