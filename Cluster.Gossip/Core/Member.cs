using Cluster.Gossip.Wire;

namespace Cluster.Gossip.Core;

/// <summary>What a member knows of another member (or of itself).</summary>
public sealed record Member(string Name, string Address, ulong Incarnation, MemberStatus Status, IReadOnlyDictionary<string, string> Tags, TimeSpan Since);

public enum MembershipEventKind
{
    Joined,
    Updated,
    Failed,
    Left,
    Reaped,
}

public sealed record MembershipEvent(MembershipEventKind Kind, Member Member);

/// <summary>What the protocol asks its transport to do.</summary>
public abstract record Outgoing(string Address);

/// <summary>A UDP packet.</summary>
public sealed record SendPacket(string Address, Packet Packet) : Outgoing(Address);

/// <summary>The same packet over TCP (the fallback probe: a member behind lossy UDP still answers).</summary>
public sealed record SendReliable(string Address, Packet Packet) : Outgoing(Address);

/// <summary>Exchange full state with the member at Address over TCP (<see cref="GossipNode.LocalState"/> both ways).</summary>
public sealed record StartPushPull(string Address, bool Join) : Outgoing(Address);

/// <summary>One member's answer (<paramref name="From"/>) to the query with this Lamport time.</summary>
public sealed record QueryAnswer(ulong Lamport, string From, Google.Protobuf.ByteString Payload);

/// <summary>A query's answers by member, and the members that were alive when it was asked but did not answer in time.</summary>
public sealed record QueryResult(IReadOnlyDictionary<string, Google.Protobuf.ByteString> Answers, IReadOnlyList<string> Missing);
