using Google.Protobuf.Reflection;

namespace Legacy.Actors.Remoting;

/// <summary>How a node reaches and watches the others.</summary>
public sealed record RemoteOptions
{
    /// <summary>Address to bind and to advertise to peers.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Port to bind; 0 picks a free one (the advertised address then carries the real port).</summary>
    public int Port { get; init; }

    /// <summary>Protobuf message types this node sends or receives; others go to dead letters with a clear reason.</summary>
    public IReadOnlyList<MessageDescriptor> Messages { get; init; } = [];

    /// <summary>A heartbeat goes to every peer we are connected to or watch, this often.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A peer we watch or talk to that has not been heard from for this long is lost: watchers
    /// get Terminated(AddressTerminated), queued messages go to dead letters, and that
    /// incarnation is quarantined (it must restart to talk to us again).
    /// </summary>
    public TimeSpan NodeLostAfter { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan ReconnectMinBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan ReconnectMaxBackoff { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Messages waiting for one peer; more go to dead letters (a slow or absent peer cannot exhaust memory).</summary>
    public int OutboundQueueCapacity { get; init; } = 100_000;

    /// <summary>Largest serialized message; larger ones go to dead letters instead of breaking the stream.</summary>
    public int MaxMessageBytes { get; init; } = 1024 * 1024;

    /// <summary>Messages batched into one frame when several are queued.</summary>
    public int MaxMessagesPerFrame { get; init; } = 256;
}
