using Cluster.Gossip.Pool;
using Cluster.Gossip.Wire;
using AkkaAddress = Akka.Actor.Address;

namespace Cluster.Actors.Formation;

/// <summary>A <see cref="GossipPool"/> as formation's <see cref="IPoolView"/>: its members' states and "actors" tags.</summary>
public sealed class GossipPoolView(GossipPool pool, string systemName) : IPoolView
{
    public IReadOnlyList<PoolMember> Members =>
        [.. pool.Members.Select(m => new PoolMember(m.Name, StateOf(m.Status), ActorTags.Parse(m.Tags, systemName)))];

    public Task Changed => pool.Changed;

    public void Advertise(AkkaAddress address)
    {
        var self = pool.Members.FirstOrDefault(m => m.Name == pool.Name);
        var tags = new Dictionary<string, string>(self?.Tags ?? pool.Options.Tags) { [ActorTags.Key] = ActorTags.Value(address) };
        pool.UpdateTags(tags);
    }

    private static PoolMemberState StateOf(MemberStatus status) => status switch
    {
        MemberStatus.Alive or MemberStatus.Suspect => PoolMemberState.Alive,
        MemberStatus.Left => PoolMemberState.Left,
        _ => PoolMemberState.Failed,
    };
}
