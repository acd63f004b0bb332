using System.Collections.Immutable;
using AkkaAddress = Akka.Actor.Address;

namespace Cluster.Actors.Formation;

/// <summary>
/// What the formation driver should do now: join through these seeds (null: nothing to join
/// yet, or already joined), down these Akka members, and the node name → actor address
/// directory that home placement reads.
/// </summary>
public sealed record FormationPlan(
    ImmutableArray<AkkaAddress>? JoinSeeds,
    ImmutableArray<AkkaAddress> Down,
    ImmutableDictionary<string, AkkaAddress> Directory);
