using Cluster.Actors.Serialization;
using Cluster.Actors.Sharding;
using MessagePack;

namespace Cluster.Testing.Sharded;

/// <summary>A message for the echo entity <paramref name="EntityId"/> of node <paramref name="Home"/>.</summary>
[MessagePackObject]
public sealed record Echo([property: Key(0)] string Home, [property: Key(1)] string EntityId, [property: Key(2)] long Seq) : IEntityMessage;

/// <summary>The entity's answer: which node ran it, how many messages this incarnation has seen.</summary>
[MessagePackObject]
public sealed record EchoReply([property: Key(0)] string EntityId, [property: Key(1)] string Node, [property: Key(2)] long Seq, [property: Key(3)] int Count) : IWireMessage;

/// <summary>The test messages' manifests.</summary>
public static class EchoMessages
{
    public static MessageRegistry Registry { get; } = new([new("t.echo", typeof(Echo)), new("t.echo-reply", typeof(EchoReply))]);
}
