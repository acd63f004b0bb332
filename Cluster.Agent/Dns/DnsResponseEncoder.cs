using System.Buffers.Binary;

namespace Cluster.Agent.Dns;

/// <summary>
/// Encodes an answer to a query within a size limit. Everything is written first, then cut at
/// the last record boundary that fits: additional records that do not fit are just left out
/// (RFC 2181 §9), a missing answer or authority record sets TC so the client retries over TCP.
/// The OPT record, when the client sent one, always goes last and always fits.
/// </summary>
public static class DnsResponseEncoder
{
    /// <summary>The most a UDP answer to this query may be: the client's EDNS0 payload size (at least 512), capped by ours.</summary>
    public static int UdpLimit(DnsQuery query, int maxUdpPayload)
    {
        ArgumentNullException.ThrowIfNull(query);
        return query.Edns is { } edns ? Math.Clamp((int)edns.UdpPayloadSize, DnsWire.ClassicUdpPayload, Math.Max(maxUdpPayload, DnsWire.ClassicUdpPayload)) : DnsWire.ClassicUdpPayload;
    }

    public static void Encode(DnsMessageWriter writer, DnsQuery query, DnsAnswer answer, int limit, int advertisedPayload)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(answer);
        writer.Reset();
        var flags = (ushort)(DnsWire.QueryResponse | (query.Flags & (DnsWire.RecursionDesired | DnsWire.CheckingDisabled)) | ((int)answer.Code & 0xF));
        if (answer.Authoritative)
        {
            flags |= DnsWire.Authoritative;
        }

        writer.WriteUInt16(query.Id);
        writer.WriteUInt16(flags);
        writer.WriteUInt16(1);
        writer.WriteUInt32(0);
        writer.WriteUInt16(0);
        writer.WriteQuestionName(query.Question);
        writer.WriteUInt16((ushort)query.Question.Type);
        writer.WriteUInt16(query.Question.Class);

        // A record crossing the TCP maximum is kept in the slack only to be cut below.
        var budget = Math.Min(limit, DnsWire.MaxTcpMessage) - (query.Edns is null ? 0 : DnsWire.OptRecordSize);
        var kept = writer.Position;
        var answers = Write(writer, answer.Answers, budget, ref kept);
        var authority = answers == answer.Answers.Count ? Write(writer, answer.Authority, budget, ref kept) : 0;
        var complete = answers == answer.Answers.Count && authority == answer.Authority.Count;
        var additional = complete ? Write(writer, answer.Additional, budget, ref kept) : 0;
        writer.Truncate(kept);

        if (!complete)
        {
            writer.PatchUInt16(2, (ushort)(flags | DnsWire.Truncated));
        }

        writer.PatchUInt16(6, (ushort)answers);
        writer.PatchUInt16(8, (ushort)authority);
        if (query.Edns is not null)
        {
            writer.WriteByte(0); // the root name
            writer.WriteUInt16((ushort)DnsType.Opt);
            writer.WriteUInt16((ushort)advertisedPayload);
            writer.WriteUInt32((uint)((int)answer.Code >> 4) << 24);
            writer.WriteUInt16(0);
            additional++;
        }

        writer.PatchUInt16(10, (ushort)additional);
    }

    /// <summary>Writes records while they fit in <paramref name="budget"/>; returns how many did, <paramref name="kept"/> being where the last of them ends.</summary>
    private static int Write(DnsMessageWriter writer, IReadOnlyList<DnsRecord> records, int budget, ref int kept)
    {
        for (var i = 0; i < records.Count; i++)
        {
            WriteRecord(writer, records[i]);
            if (writer.Position > budget)
            {
                return i;
            }

            kept = writer.Position;
        }

        return records.Count;
    }

    private static void WriteRecord(DnsMessageWriter writer, DnsRecord record)
    {
        writer.WriteName(record.Name);
        writer.WriteUInt16((ushort)record.Type);
        writer.WriteUInt16(DnsWire.ClassIn);
        writer.WriteUInt32(record.Ttl);
        var lengthAt = writer.Position;
        writer.WriteUInt16(0);
        record.WriteData(writer);
        writer.PatchUInt16(lengthAt, (ushort)(writer.Position - lengthAt - 2));
    }

    /// <summary>A header-only answer (FORMERR, NOTIMP) to a packet we could not read as a query: its ID, opcode and RD echoed when present.</summary>
    public static void EncodeError(DnsMessageWriter writer, ReadOnlySpan<byte> packet, DnsResponseCode code)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Reset();
        writer.WriteUInt16(BinaryPrimitives.ReadUInt16BigEndian(packet));
        var echoed = packet.Length >= 3 ? (packet[2] << 8) & (DnsWire.OpcodeMask | DnsWire.RecursionDesired) : 0;
        writer.WriteUInt16((ushort)(DnsWire.QueryResponse | echoed | ((int)code & 0xF)));
        writer.WriteUInt32(0);
        writer.WriteUInt32(0);
    }
}
