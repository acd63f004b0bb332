using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Sharding;
using AkkaAddress = Akka.Actor.Address;

namespace Cluster.Actors.Sharding;

/// <summary>
/// Akka's allocation hook around <see cref="HomePlacement"/>; runs in the shard coordinator. A
/// null region tells the coordinator the allocation failed for now: the region asking retries
/// (sharding's retry-interval), by when the home's region has registered.
/// </summary>
public sealed class HomeAllocationStrategy(NodeDirectory directory) : IActorSystemDependentAllocationStrategy
{
    private AkkaAddress? _self;

    public void Start(ActorSystem system) => _self = Akka.Cluster.Cluster.Get(system).SelfAddress;

    public Task<IActorRef> AllocateShard(IActorRef requester, string shardId, IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations) =>
        Task.FromResult(HomePlacement.Allocate(shardId, Loads(currentShardAllocations), directory.Find)!);

    public Task<IImmutableSet<string>> Rebalance(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations, IImmutableSet<string> rebalanceInProgress) =>
        Task.FromResult<IImmutableSet<string>>(HomePlacement.Rebalance(Loads(currentShardAllocations), rebalanceInProgress.ToHashSet(StringComparer.Ordinal), directory.Find));

    private List<RegionLoad<IActorRef>> Loads(IImmutableDictionary<IActorRef, IImmutableList<string>> allocations) =>
        [.. allocations.Select(a => new RegionLoad<IActorRef>(a.Key, AddressOf(a.Key), a.Value))];

    // The coordinator's own region has a local path (no host): it runs on this node.
    private AkkaAddress AddressOf(IActorRef region) =>
        region.Path.Address.HasGlobalScope ? region.Path.Address : _self ?? region.Path.Address;
}
