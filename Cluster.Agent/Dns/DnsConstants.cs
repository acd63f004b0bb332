namespace Cluster.Agent.Dns;

/// <summary>Record types we read or write (RFC 1035, 2782, 3596, 6891).</summary>
public enum DnsType : ushort
{
    A = 1,
    NS = 2,
    CName = 5,
    Soa = 6,
    Txt = 16,
    Aaaa = 28,
    Srv = 33,
    Opt = 41,
    Any = 255,
}

/// <summary>Response codes; <see cref="BadVersion"/> is EDNS0's extended code (its upper 8 bits travel in the OPT record).</summary>
public enum DnsResponseCode
{
    NoError = 0,
    FormatError = 1,
    ServerFailure = 2,
    NameError = 3,
    NotImplemented = 4,
    Refused = 5,
    BadVersion = 16,
}

/// <summary>Header bits and sizes of RFC 1035 §4.1.1.</summary>
internal static class DnsWire
{
    public const int HeaderSize = 12;
    public const int MaxNameLength = 255;
    public const int MaxLabelLength = 63;
    public const int ClassIn = 1;
    public const int ClassAny = 255;

    /// <summary>Without EDNS0 a UDP answer is at most 512 bytes (RFC 1035 §4.2.1).</summary>
    public const int ClassicUdpPayload = 512;

    public const int MaxTcpMessage = ushort.MaxValue;

    /// <summary>An OPT record with no options: root name, type, class, TTL, RDLENGTH.</summary>
    public const int OptRecordSize = 11;

    public const ushort QueryResponse = 0x8000;
    public const ushort Authoritative = 0x0400;
    public const ushort Truncated = 0x0200;
    public const ushort RecursionDesired = 0x0100;
    public const ushort CheckingDisabled = 0x0010;
    public const int OpcodeShift = 11;
    public const ushort OpcodeMask = 0x7800;
}
