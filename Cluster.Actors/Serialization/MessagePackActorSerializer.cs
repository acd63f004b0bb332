using Akka.Actor;
using System.Runtime.Serialization;
using Akka.Serialization;
using MessagePack;

namespace Cluster.Actors.Serialization;

/// <summary>
/// Akka serializer for <see cref="IWireMessage"/>s: MessagePack with integer keys, one leading
/// format-version byte, and MessagePack's untrusted-data mode for every payload (bounded depth,
/// collision-resistant hashing for dictionaries: CVE-2024-48924's class). The manifest names the
/// type through the <see cref="MessageRegistry"/>; a manifest or version it does not know, or bytes
/// that do not parse, fail with a <see cref="SerializationException"/> naming what was wrong, and
/// Akka's remoting drops that one message.
/// </summary>
public sealed class MessagePackActorSerializer : SerializerWithStringManifest
{
    /// <summary>Outside Akka's reserved 0–40 and the ids its own modules use.</summary>
    public const int Id = 7_301;

    /// <summary>The first byte of every payload; a peer on another format fails clearly rather than mis-reading.</summary>
    public const byte FormatVersion = 1;

    private static readonly MessagePackSerializerOptions Options = MessagePackSerializerOptions.Standard
        .WithSecurity(MessagePackSecurity.UntrustedData)
        .WithCompression(MessagePackCompression.None);

    private readonly MessageRegistry _registry;

    public MessagePackActorSerializer(ExtendedActorSystem system, MessageRegistry registry)
        : base(system)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _registry = registry;
    }

    public override int Identifier => Id;

    public override string Manifest(object o)
    {
        ArgumentNullException.ThrowIfNull(o);
        return _registry.TryGetManifest(o.GetType(), out var manifest)
            ? manifest
            : throw new SerializationException($"{o.GetType().FullName} is not in the message registry: it cannot be sent to another node");
    }

    public override byte[] ToBinary(object obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        _ = Manifest(obj);
        var body = MessagePackSerializer.Serialize(obj.GetType(), obj, Options);
        var bytes = new byte[body.Length + 1];
        bytes[0] = FormatVersion;
        body.CopyTo(bytes.AsSpan(1));
        return bytes;
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (!_registry.TryGetType(manifest ?? "", out var type))
        {
            throw new SerializationException($"unknown message manifest '{manifest}' ({bytes.Length} bytes): not a registered message type");
        }

        if (bytes.Length == 0)
        {
            throw new SerializationException($"empty payload for '{manifest}' ({type.Name})");
        }

        if (bytes[0] != FormatVersion)
        {
            throw new SerializationException($"'{manifest}' ({type.Name}): format version {bytes[0]}, this node reads version {FormatVersion}");
        }

        try
        {
            return MessagePackSerializer.Deserialize(type, bytes.AsMemory(1), Options)
                ?? throw new SerializationException($"'{manifest}' ({type.Name}): payload is nil");
        }
        catch (MessagePackSerializationException e)
        {
            throw new SerializationException($"malformed '{manifest}' ({type.Name}, {bytes.Length} bytes): {e.InnerException?.Message ?? e.Message}", e);
        }
    }
}
