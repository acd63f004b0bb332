namespace Legacy.Actors.Membership;

/// <summary>
/// This node's view of which nodes are up. Sharding and remoting act on it; what feeds it is
/// outside: tests set it directly, gossip (failure detection) and Raft (server set) will later.
/// Members are kept in address order, so every node that sees the same set agrees on who is
/// first (the sharding coordinator's host).
/// </summary>
public sealed class ClusterMembership
{
    private readonly ActorSystem _system;
    private readonly Lock _lock = new();
    private Address[] _members;
    private HashSet<Address> _set;

    public ClusterMembership(ActorSystem system, IEnumerable<Address>? initial = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        _system = system;
        _members = Sorted(initial ?? [system.Address]);
        _set = [.. _members];
    }

    public IReadOnlyList<Address> Members => Volatile.Read(ref _members);

    /// <summary>Whether <paramref name="address"/> is a member right now (O(1); safe from any thread).</summary>
    public bool IsMember(Address address) => Volatile.Read(ref _set).Contains(address);

    /// <summary>The first member in address order, or null when there is none.</summary>
    public Address? Leader => Members.Count == 0 ? null : Members[0];

    public static int Compare(Address a, Address b) => string.CompareOrdinal(a?.ToString(), b?.ToString());

    public void Set(IEnumerable<Address> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        Address[] before, after;
        lock (_lock)
        {
            before = _members;
            after = Sorted(members);
            if (before.SequenceEqual(after))
            {
                return;
            }

            Volatile.Write(ref _members, after);
            Volatile.Write(ref _set, [.. after]);
        }

        var removed = before.Except(after).ToArray();
        var joined = after.Except(before).ToArray();

        // A removed node is gone for remoting too: its watches fire now, not after a timeout.
        foreach (var address in removed)
        {
            _system.Remote?.NodeRemoved(address);
        }

        _system.EventStream.Publish(new MembersChanged(after, joined, removed));
    }

    public void Join(Address address) => Set([.. Members, address]);

    public void Remove(Address address) => Set(Members.Where(m => m != address));

    private static Address[] Sorted(IEnumerable<Address> members)
    {
        var list = members.Distinct().ToArray();
        Array.Sort(list, Compare);
        return list;
    }
}
