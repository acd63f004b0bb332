using System.Collections.Immutable;

namespace Cluster.Actors;

/// <summary>What one node sees of its Akka cluster: itself and every member, as Akka's gossip has them.</summary>
/// <param name="Address">This incarnation's address (akka.tcp://system@host:port).</param>
/// <param name="Status">This node's membership status: Joining, Up, Leaving, Exiting, Down, Removed.</param>
/// <param name="Incarnations">Actor systems this node has run (more than one after it was downed while alive).</param>
/// <param name="Leader">The cluster leader's address, if one is known.</param>
/// <param name="Members">Every member, ordered by address.</param>
public sealed record ActorNodeStatus(string Address, string Status, int Incarnations, string? Leader, ImmutableArray<ActorMemberStatus> Members);

/// <summary>One member as this node sees it.</summary>
/// <param name="Address">The member's actor address.</param>
/// <param name="Status">Its membership status.</param>
/// <param name="Reachable">False while this node's failure detector cannot reach it (Akka marks; gossip decides).</param>
public sealed record ActorMemberStatus(string Address, string Status, bool Reachable);
