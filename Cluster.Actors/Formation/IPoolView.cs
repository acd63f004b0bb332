using AkkaAddress = Akka.Actor.Address;

namespace Cluster.Actors.Formation;

/// <summary>The gossip pool as formation sees it (the LAN pool in production; <see cref="GossipPoolView"/>).</summary>
public interface IPoolView
{
    /// <summary>Every member this node knows, itself included.</summary>
    IReadOnlyList<PoolMember> Members { get; }

    /// <summary>Completes at the next membership change (take it before reading <see cref="Members"/>).</summary>
    Task Changed { get; }

    /// <summary>Advertises this node's actor endpoint to the pool.</summary>
    void Advertise(AkkaAddress address);
}
