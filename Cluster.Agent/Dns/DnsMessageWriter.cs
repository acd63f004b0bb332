using System.Buffers.Binary;
using System.Net;

namespace Cluster.Agent.Dns;

/// <summary>
/// Writes one message at a time into a buffer of its own, compressing names (RFC 1035 §4.1.4)
/// against every name already written. One writer per receive loop or connection, reused for
/// every message, so answering allocates no buffers.
/// </summary>
public sealed class DnsMessageWriter
{
    // Room past the largest TCP message, so that the record that crosses it still fits whole;
    // the encoder stops before writing another one.
    private const int Slack = 2048;
    private const int MaxPointerOffset = 0x3FFF;
    private readonly byte[] _buffer = new byte[DnsWire.MaxTcpMessage + Slack];
    private readonly Dictionary<string, int> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private int _position;

    public DnsMessageWriter() => _lookup = _names.GetAlternateLookup<ReadOnlySpan<char>>();

    public int Position => _position;

    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _position);

    internal Span<byte> Buffer => _buffer;

    public void Reset()
    {
        _position = 0;
        _names.Clear();
    }

    /// <summary>Cuts the message back to <paramref name="position"/>, a record boundary (pointers only point backwards, so what is kept stays valid).</summary>
    internal void Truncate(int position) => _position = position;

    public void WriteByte(byte value) => _buffer[_position++] = value;

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(_position), value);
        _position += 2;
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(_position), value);
        _position += 4;
    }

    internal void PatchUInt16(int offset, ushort value) => BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(offset), value);

    public void WriteAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        address.TryWriteBytes(_buffer.AsSpan(_position), out var written);
        _position += written;
    }

    /// <summary>
    /// Writes a dotted name (no trailing dot; empty is the root). Labels are Latin-1, so a
    /// question's bytes come back as they were; a label longer than 63 bytes is cut there and a
    /// name stops before it would pass 255 bytes, so what we write is always well formed.
    /// </summary>
    public void WriteName(string name, bool compress = true)
    {
        ArgumentNullException.ThrowIfNull(name);
        var span = name.AsSpan();
        var start = 0;
        var length = 1;
        while (start < span.Length)
        {
            var suffix = span[start..];
            if (compress && _lookup.TryGetValue(suffix, out var offset))
            {
                WriteUInt16((ushort)(0xC000 | offset));
                return;
            }

            var dot = suffix.IndexOf('.');
            var label = dot < 0 ? suffix : suffix[..dot];
            if (label.Length > DnsWire.MaxLabelLength)
            {
                label = label[..DnsWire.MaxLabelLength];
            }

            if (label.Length == 0 || length + label.Length + 1 > DnsWire.MaxNameLength)
            {
                break;
            }

            if (_position <= MaxPointerOffset)
            {
                _names.TryAdd(suffix.ToString(), _position);
            }

            length += label.Length + 1;
            _buffer[_position++] = (byte)label.Length;
            foreach (var c in label)
            {
                _buffer[_position++] = c <= 0xFF ? (byte)c : (byte)'?';
            }

            start += dot < 0 ? span.Length : dot + 1;
        }

        _buffer[_position++] = 0;
    }

    /// <summary>Writes the question's name uncompressed, byte for byte as asked, registering its suffixes for the names after it.</summary>
    internal void WriteQuestionName(DnsQuestion question)
    {
        var offset = 0;
        foreach (var label in question.Labels)
        {
            if (_position <= MaxPointerOffset)
            {
                _names.TryAdd(question.Name[offset..], _position);
            }

            _buffer[_position++] = (byte)label.Length;
            foreach (var c in label)
            {
                _buffer[_position++] = (byte)c;
            }

            offset += label.Length + 1;
        }

        _buffer[_position++] = 0;
    }
}
