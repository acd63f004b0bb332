using System.Buffers.Binary;
using System.Text;

namespace Cluster.Agent.Dns;

/// <summary>
/// Reads queries off the wire (RFC 1035 §4.1), refusing anything malformed rather than guessing:
/// bad label lengths, extended label types, names over 255 bytes, compression pointers that do
/// not point strictly backwards (which is what makes loops impossible), sections that run past
/// the packet, trailing bytes, and more than one OPT record.
/// </summary>
public static class DnsMessageReader
{
    public static DnsReadOutcome ReadQuery(ReadOnlySpan<byte> packet, out DnsQuery? query)
    {
        query = null;
        if (packet.Length < 2)
        {
            return DnsReadOutcome.Ignore;
        }

        if (packet.Length < DnsWire.HeaderSize)
        {
            return packet.Length >= 3 && (packet[2] & 0x80) != 0 ? DnsReadOutcome.Ignore : DnsReadOutcome.FormatError;
        }

        var id = BinaryPrimitives.ReadUInt16BigEndian(packet);
        var flags = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        if ((flags & DnsWire.QueryResponse) != 0)
        {
            return DnsReadOutcome.Ignore;
        }

        if ((flags & DnsWire.OpcodeMask) != 0)
        {
            return DnsReadOutcome.NotImplemented;
        }

        var questions = BinaryPrimitives.ReadUInt16BigEndian(packet[4..]);
        var answers = BinaryPrimitives.ReadUInt16BigEndian(packet[6..]);
        var authority = BinaryPrimitives.ReadUInt16BigEndian(packet[8..]);
        var additional = BinaryPrimitives.ReadUInt16BigEndian(packet[10..]);
        if (questions != 1)
        {
            return DnsReadOutcome.FormatError;
        }

        var position = DnsWire.HeaderSize;
        var labels = new List<string>(4);
        if (!TryReadName(packet, ref position, labels) || position + 4 > packet.Length)
        {
            return DnsReadOutcome.FormatError;
        }

        var type = (DnsType)BinaryPrimitives.ReadUInt16BigEndian(packet[position..]);
        var @class = BinaryPrimitives.ReadUInt16BigEndian(packet[(position + 2)..]);
        position += 4;

        DnsEdns? edns = null;
        var records = answers + authority + additional;
        for (var i = 0; i < records; i++)
        {
            var start = position;
            if (!TryReadName(packet, ref position, null) || position + 10 > packet.Length)
            {
                return DnsReadOutcome.FormatError;
            }

            var recordType = (DnsType)BinaryPrimitives.ReadUInt16BigEndian(packet[position..]);
            var recordClass = BinaryPrimitives.ReadUInt16BigEndian(packet[(position + 2)..]);
            var ttl = BinaryPrimitives.ReadUInt32BigEndian(packet[(position + 4)..]);
            var length = BinaryPrimitives.ReadUInt16BigEndian(packet[(position + 8)..]);
            position += 10;
            if (position + length > packet.Length)
            {
                return DnsReadOutcome.FormatError;
            }

            position += length;
            if (recordType == DnsType.Opt)
            {
                // RFC 6891 §6.1.1: one OPT, in the additional section, owned by the root.
                if (edns is not null || i < answers + authority || packet[start] != 0)
                {
                    return DnsReadOutcome.FormatError;
                }

                edns = new DnsEdns(recordClass, (byte)(ttl >> 16), (ttl & 0x8000) != 0);
            }
        }

        if (position != packet.Length)
        {
            return DnsReadOutcome.FormatError;
        }

        query = new DnsQuery(id, flags, new DnsQuestion(string.Join('.', labels), labels, type, @class), edns);
        return DnsReadOutcome.Query;
    }

    /// <summary>
    /// Reads a possibly compressed name at <paramref name="position"/> and moves past it. Every
    /// pointer must point before the start of the run of labels it ends, so each jump goes
    /// strictly backwards and reading terminates.
    /// </summary>
    public static bool TryReadName(ReadOnlySpan<byte> packet, ref int position, List<string>? labels)
    {
        var cursor = position;
        var limit = position;
        var end = -1;
        var length = 1;
        while (cursor < packet.Length)
        {
            var b = packet[cursor];
            if (b == 0)
            {
                position = end < 0 ? cursor + 1 : end;
                return true;
            }

            switch (b & 0xC0)
            {
                case 0xC0:
                    if (cursor + 1 >= packet.Length)
                    {
                        return false;
                    }

                    var target = ((b & 0x3F) << 8) | packet[cursor + 1];
                    if (target >= limit)
                    {
                        return false;
                    }

                    if (end < 0)
                    {
                        end = cursor + 2;
                    }

                    limit = target;
                    cursor = target;
                    break;
                case 0:
                    length += b + 1;
                    if (length > DnsWire.MaxNameLength || cursor + 1 + b > packet.Length)
                    {
                        return false;
                    }

                    labels?.Add(Encoding.Latin1.GetString(packet.Slice(cursor + 1, b)));
                    cursor += 1 + b;
                    break;
                default:
                    return false; // 0x40 and 0x80: extended label types (RFC 6891 §5), not supported
            }
        }

        return false;
    }
}
