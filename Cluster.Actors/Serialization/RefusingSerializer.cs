using Akka.Actor;
using System.Runtime.Serialization;
using Akka.Serialization;

namespace Cluster.Actors.Serialization;

/// <summary>
/// Bound to System.Object in place of Akka's reflection-based JSON default: a message type with
/// no serializer of its own cannot cross nodes, and saying so at the sender is better than
/// shipping whatever a reflection serializer makes of it (or instantiating whatever type a peer names).
/// </summary>
public sealed class RefusingSerializer(ExtendedActorSystem system) : Serializer(system)
{
    public const int Id = 7_300;

    public override int Identifier => Id;

    public override bool IncludeManifest => false;

    public override byte[] ToBinary(object obj) =>
        throw new SerializationException($"{obj?.GetType().FullName} has no serializer: implement {nameof(IWireMessage)} and list it in the {nameof(MessageRegistry)} to send it to another node");

    public override object FromBinary(byte[] bytes, Type type) =>
        throw new SerializationException($"refusing a payload for {type?.FullName ?? "an unnamed type"}: this node accepts only registered message types");
}
