using System.Security.Cryptography;
using System.Text;
using Cluster.Gossip.Wire;
using Google.Protobuf;

namespace Cluster.Gossip.Security;

public enum DropReason
{
    TooShort,
    TooLarge,
    UnknownVersion,
    NotEncrypted,
    WrongKeyOrDamaged,
    Malformed,
}

/// <summary>
/// Packets on the wire: <c>[version][nonce 12][ciphertext][tag 16]</c> with AES-GCM under the
/// keyring's primary key and the pool's label as associated data (a LAN packet does not open
/// in the WAN pool); or <c>[version 0][protobuf]</c> when encryption is off. Anything else —
/// garbage, truncation, a wrong key, plaintext when encryption is on — is dropped and counted,
/// never thrown. Replays are harmless by design of the protocol (incarnations and sequence
/// numbers make an old message a no-op).
/// </summary>
public sealed class PacketCodec(Keyring? keyring, string label, int maxPacketBytes = 64 * 1024)
{
    private const byte Plain = 0;
    private const byte Sealed = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _label = Encoding.UTF8.GetBytes(label ?? throw new ArgumentNullException(nameof(label)));
    private long _dropped;

    public long Dropped => Interlocked.Read(ref _dropped);

    public Action<DropReason>? OnDrop { get; init; }

    public byte[] Encode(IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var plain = message.ToByteArray();
        if (keyring is null)
        {
            return [Plain, .. plain];
        }

        var (primary, _) = keyring.Snapshot();
        var output = new byte[1 + NonceSize + plain.Length + TagSize];
        output[0] = Sealed;
        var nonce = output.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(primary, TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(1 + NonceSize, plain.Length), output.AsSpan(1 + NonceSize + plain.Length, TagSize), _label);
        return output;
    }

    /// <summary>The packet, or null (dropped and counted) if it does not open and parse.</summary>
    public Packet? DecodePacket(ReadOnlySpan<byte> data) => Decode(data, Packet.Parser);

    public PushPull? DecodePushPull(ReadOnlySpan<byte> data) => Decode(data, PushPull.Parser);

    private T? Decode<T>(ReadOnlySpan<byte> data, MessageParser<T> parser)
        where T : class, IMessage<T>
    {
        if (data.Length < 1)
        {
            return Drop<T>(DropReason.TooShort);
        }

        if (data.Length > maxPacketBytes)
        {
            return Drop<T>(DropReason.TooLarge);
        }

        byte[] plain;
        switch (data[0])
        {
            case Plain when keyring is null:
                plain = data[1..].ToArray();
                break;
            case Plain:
                return Drop<T>(DropReason.NotEncrypted);
            case Sealed when keyring is null:
                return Drop<T>(DropReason.WrongKeyOrDamaged);
            case Sealed:
                if (data.Length < 1 + NonceSize + TagSize)
                {
                    return Drop<T>(DropReason.TooShort);
                }

                var opened = Open(data);
                if (opened is null)
                {
                    return Drop<T>(DropReason.WrongKeyOrDamaged);
                }

                plain = opened;
                break;
            default:
                return Drop<T>(DropReason.UnknownVersion);
        }

        try
        {
            return parser.ParseFrom(plain);
        }
        catch (InvalidProtocolBufferException)
        {
            return Drop<T>(DropReason.Malformed);
        }
    }

    private byte[]? Open(ReadOnlySpan<byte> data)
    {
        var nonce = data.Slice(1, NonceSize);
        var cipher = data[(1 + NonceSize)..^TagSize];
        var tag = data[^TagSize..];
        var plain = new byte[cipher.Length];
        foreach (var key in keyring!.Snapshot().All)
        {
            try
            {
                using var aes = new AesGcm(key, TagSize);
                aes.Decrypt(nonce, cipher, tag, plain, _label);
                return plain;
            }
            catch (AuthenticationTagMismatchException)
            {
                // not this key; try the next
            }
        }

        return null;
    }

    private T? Drop<T>(DropReason reason)
        where T : class
    {
        Interlocked.Increment(ref _dropped);
        OnDrop?.Invoke(reason);
        return null;
    }
}
