using Legacy.Actors.Remoting.Wire;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;

namespace Legacy.Actors.Remoting;

/// <summary>
/// Protobuf messages by full name. Only registered types cross the wire, in either direction,
/// so a peer cannot make us instantiate arbitrary types.
/// </summary>
internal sealed class MessageSerializer
{
    // Our own protocols and the common wrappers: always accepted.
    private static readonly MessageDescriptor[] BuiltIn =
    [
        StringValue.Descriptor, Int64Value.Descriptor, Int32Value.Descriptor, BoolValue.Descriptor,
        BytesValue.Descriptor, Empty.Descriptor, ActorRefData.Descriptor,
        .. Sharding.Wire.ShardingReflection.Descriptor.MessageTypes,
    ];

    private readonly Dictionary<string, MessageParser> _parsers = new(StringComparer.Ordinal);

    public MessageSerializer(IEnumerable<MessageDescriptor> descriptors)
    {
        foreach (var descriptor in BuiltIn.Concat(descriptors))
        {
            _parsers[descriptor.FullName] = descriptor.Parser;
        }
    }

    /// <summary>Serializes or explains why not.</summary>
    public bool TrySerialize(object message, int maxBytes, out string type, out ByteString payload, out string? error)
    {
        type = "";
        payload = ByteString.Empty;
        if (message is not IMessage protobuf)
        {
            error = $"{message.GetType().Name} is not a protobuf message and cannot be sent to another node";
            return false;
        }

        type = protobuf.Descriptor.FullName;
        if (!_parsers.ContainsKey(type))
        {
            error = $"{type} is not registered in RemoteOptions.Messages";
            return false;
        }

        var size = protobuf.CalculateSize();
        if (size > maxBytes)
        {
            error = $"{type} is {size} bytes, more than the {maxBytes}-byte limit";
            return false;
        }

        payload = protobuf.ToByteString();
        error = null;
        return true;
    }

    public bool TryDeserialize(string type, ByteString payload, out object message, out string? error)
    {
        message = null!;
        if (!_parsers.TryGetValue(type, out var parser))
        {
            error = $"unknown message type '{type}'";
            return false;
        }

        try
        {
            message = parser.ParseFrom(payload);
            error = null;
            return true;
        }
        catch (InvalidProtocolBufferException exception)
        {
            error = $"malformed {type}: {exception.Message}";
            return false;
        }
    }
}
