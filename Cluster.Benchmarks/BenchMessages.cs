using Cluster.Actors.Serialization;
using Cluster.Actors.Sharding;
using MessagePack;

namespace Cluster.Benchmarks;

/// <summary>A message for benchmark entity <paramref name="EntityId"/> of node <paramref name="Home"/>; its reply carries <paramref name="Seq"/> back.</summary>
[MessagePackObject]
public sealed record BenchCommand([property: Key(0)] string Home, [property: Key(1)] string EntityId, [property: Key(2)] long Seq) : IEntityMessage;

/// <summary>
/// An entity's answer. <paramref name="Incarnation"/> is unique per entity start in the process,
/// so a reply from an entity restarted on a survivor is told apart from the original's.
/// </summary>
[MessagePackObject]
public sealed record BenchReply([property: Key(0)] int Entity, [property: Key(1)] long Seq, [property: Key(2)] long Incarnation) : IWireMessage;

/// <summary>One small message of a remote stream.</summary>
[MessagePackObject]
public sealed record StreamItem([property: Key(0)] long Seq) : IWireMessage;

/// <summary>The receiver has had <paramref name="Received"/> stream items.</summary>
[MessagePackObject]
public sealed record StreamAck([property: Key(0)] long Received) : IWireMessage;

/// <summary>The benchmark's manifests (a registry as every node module has one).</summary>
public static class BenchMessages
{
    public static MessageRegistry Registry { get; } = new(
    [
        new("b.cmd", typeof(BenchCommand)),
        new("b.reply", typeof(BenchReply)),
        new("b.item", typeof(StreamItem)),
        new("b.ack", typeof(StreamAck)),
    ]);
}
