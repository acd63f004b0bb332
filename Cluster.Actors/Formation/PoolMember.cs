using AkkaAddress = Akka.Actor.Address;

namespace Cluster.Actors.Formation;

/// <summary>What formation needs of one gossip member: its name, whether gossip counts it alive, and its actor endpoint.</summary>
public sealed record PoolMember(string Name, PoolMemberState State, AkkaAddress? Actors);

public enum PoolMemberState
{
    /// <summary>Alive or suspect: gossip has not given up on it.</summary>
    Alive,

    /// <summary>Declared failed by gossip's failure detector.</summary>
    Failed,

    /// <summary>Left on purpose.</summary>
    Left,
}
