using Cluster.Actors.Serialization;

namespace Cluster.Actors.Sharding;

/// <summary>
/// A message for a sharded entity. <see cref="Home"/> is the node (gossip member name) the entity
/// belongs on — for a proxy's snapshot, the agent its proxy is registered with — and
/// <see cref="EntityId"/> names it among that node's entities.
/// </summary>
public interface IEntityMessage : IWireMessage
{
    string Home { get; }

    string EntityId { get; }
}
