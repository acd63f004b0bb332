using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text;
using Cluster.Agent.Dns;

namespace Cluster.Tests.Dns;

/// <summary>A decoded record: owner, type, TTL and its data as text (`10.0.0.1`, `1 1 80 a.node.dc1.consul`).</summary>
public sealed record TestRecord(string Name, DnsType Type, uint Ttl, string Data);

/// <summary>A decoded response, as the tests look at it.</summary>
public sealed record TestResponse(
    ushort Id,
    ushort Flags,
    DnsResponseCode Code,
    IReadOnlyList<(string Name, DnsType Type)> Questions,
    IReadOnlyList<TestRecord> Answers,
    IReadOnlyList<TestRecord> Authority,
    IReadOnlyList<TestRecord> Additional,
    int Length)
{
    public bool Truncated => (Flags & 0x0200) != 0;

    public bool Authoritative => (Flags & 0x0400) != 0;

    public bool RecursionDesired => (Flags & 0x0100) != 0;

    public bool RecursionAvailable => (Flags & 0x0080) != 0;

    public TestRecord? Opt => Additional.FirstOrDefault(r => r.Type == DnsType.Opt);
}

/// <summary>Builds queries and strictly decodes responses (every name, count and length checked), independently of the server's writer.</summary>
public static class DnsTestWire
{
    public static byte[] Query(string name, DnsType type, ushort id = 0x1234, bool recursionDesired = true, ushort? udpPayload = null, byte ednsVersion = 0)
    {
        var bytes = new List<byte> { (byte)(id >> 8), (byte)id, (byte)(recursionDesired ? 0x01 : 0x00), 0, 0, 1, 0, 0, 0, 0, 0, (byte)(udpPayload is null ? 0 : 1) };
        foreach (var label in name.TrimEnd('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }

        bytes.AddRange([0, (byte)((ushort)type >> 8), (byte)type, 0, 1]);
        if (udpPayload is { } payload)
        {
            bytes.AddRange([0, 0, 41, (byte)(payload >> 8), (byte)payload, 0, ednsVersion, 0, 0, 0, 0]);
        }

        return [.. bytes];
    }

    public static TestResponse Decode(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < 12)
        {
            throw new FormatException($"response of {packet.Length} bytes");
        }

        var flags = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        var counts = new int[4];
        for (var i = 0; i < 4; i++)
        {
            counts[i] = BinaryPrimitives.ReadUInt16BigEndian(packet[(4 + (2 * i))..]);
        }

        var position = 12;
        var questions = new List<(string, DnsType)>();
        for (var i = 0; i < counts[0]; i++)
        {
            var name = Name(packet, ref position);
            questions.Add((name, (DnsType)U16(packet, position)));
            position += 4;
        }

        var sections = new List<TestRecord>[3];
        var extended = 0;
        for (var s = 0; s < 3; s++)
        {
            sections[s] = [];
            for (var i = 0; i < counts[s + 1]; i++)
            {
                var name = Name(packet, ref position);
                var type = (DnsType)U16(packet, position);
                var ttl = BinaryPrimitives.ReadUInt32BigEndian(packet[(position + 4)..]);
                var length = U16(packet, position + 8);
                position += 10;
                var end = position + length;
                if (end > packet.Length)
                {
                    throw new FormatException("record data past the end");
                }

                if (type == DnsType.Opt)
                {
                    extended = (int)(ttl >> 24);
                }

                var data = Data(packet, type, position, length, U16(packet, position - 8));
                sections[s].Add(new TestRecord(name, type, ttl, data));
                position = end;
            }
        }

        if (position != packet.Length)
        {
            throw new FormatException("trailing bytes");
        }

        return new TestResponse(
            BinaryPrimitives.ReadUInt16BigEndian(packet), flags, (DnsResponseCode)((extended << 4) | (flags & 0xF)), questions, sections[0], sections[1], sections[2], packet.Length);
    }

    private static string Data(ReadOnlySpan<byte> packet, DnsType type, int position, int length, ushort @class)
    {
        var p = position;
        string result;
        switch (type)
        {
            case DnsType.A when length == 4:
            case DnsType.Aaaa when length == 16:
                result = new IPAddress(packet.Slice(position, length)).ToString();
                p += length;
                break;
            case DnsType.CName or DnsType.NS:
                result = Name(packet, ref p);
                break;
            case DnsType.Srv:
                p += 6;
                result = string.Create(CultureInfo.InvariantCulture, $"{U16(packet, position)} {U16(packet, position + 2)} {U16(packet, position + 4)} {Name(packet, ref p)}");
                break;
            case DnsType.Soa:
                var mname = Name(packet, ref p);
                var rname = Name(packet, ref p);
                result = string.Create(CultureInfo.InvariantCulture, $"{mname} {rname} min {BinaryPrimitives.ReadUInt32BigEndian(packet[(p + 16)..])}");
                p += 20;
                break;
            case DnsType.Opt:
                result = string.Create(CultureInfo.InvariantCulture, $"payload {@class}");
                p += length;
                break;
            default:
                throw new FormatException($"unexpected record type {type}");
        }

        return p == position + length ? result : throw new FormatException($"{type} data of {length} bytes read as {p - position}");
    }

    private static ushort U16(ReadOnlySpan<byte> packet, int at) =>
        at + 2 <= packet.Length ? BinaryPrimitives.ReadUInt16BigEndian(packet[at..]) : throw new FormatException("cut short");

    private static string Name(ReadOnlySpan<byte> packet, ref int position)
    {
        var labels = new List<string>();
        if (!DnsMessageReader.TryReadName(packet, ref position, labels))
        {
            throw new FormatException("bad name");
        }

        return string.Join('.', labels);
    }
}
