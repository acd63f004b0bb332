using Cluster.Actors.Sharding;
using AkkaAddress = Akka.Actor.Address;

namespace Cluster.Tests.Actors;

/// <summary>Home placement as a table: a home's shard goes home when it can, elsewhere while it cannot, and back.</summary>
public sealed class HomePlacementTests
{
    private static AkkaAddress At(int port) => new("akka.tcp", "mesh", "127.0.0.1", port);

    private static readonly Dictionary<string, AkkaAddress> Homes = new() { ["a"] = At(1), ["b"] = At(2), ["c"] = At(3) };

    private static AkkaAddress? HomeOf(string shard) => Homes.GetValueOrDefault(shard);

    private static RegionLoad<string> Region(int port, params string[] shards) => new($"r{port}", At(port), shards);

    [Fact]
    public void A_shard_is_placed_on_its_home_node_s_region()
    {
        RegionLoad<string>[] regions = [Region(1, "x", "y", "z"), Region(2), Region(3)];
        Assert.Equal("r1", HomePlacement.Allocate("a", regions, HomeOf));
        Assert.Equal("r2", HomePlacement.Allocate("b", regions, HomeOf));
    }

    [Fact]
    public void A_shard_whose_home_is_gone_goes_to_the_least_loaded_then_lowest_address()
    {
        // "d" and "unknown-home" have no address in the directory: their home is gone.
        RegionLoad<string>[] regions = [Region(1, "a", "x"), Region(3, "c")];
        Assert.Equal("r3", HomePlacement.Allocate("d", regions, HomeOf));
        Assert.Equal("r3", HomePlacement.Allocate("unknown-home", regions, HomeOf));
        Assert.Equal("r1", HomePlacement.Allocate("d", [Region(3, "c"), Region(1, "a")], HomeOf));
        Assert.Throws<InvalidOperationException>(() => HomePlacement.Allocate("d", Array.Empty<RegionLoad<string>>(), HomeOf));
    }

    [Fact]
    public void A_shard_whose_home_is_alive_but_has_no_region_yet_waits_for_it()
    {
        // "b"'s home is in the directory (alive in gossip) but its region has not registered.
        RegionLoad<string>[] regions = [Region(1, "a", "x"), Region(3, "c")];
        Assert.Null(HomePlacement.Allocate("b", regions, HomeOf));
        Assert.Equal("r2", HomePlacement.Allocate("b", [.. regions, Region(2)], HomeOf));
    }

    [Fact]
    public void Shards_away_from_a_home_that_is_back_move_home_unless_already_moving()
    {
        // b's shard was placed on r1 while b was gone; b's region is back.
        RegionLoad<string>[] regions = [Region(1, "a", "b"), Region(2), Region(3, "c", "orphan")];
        Assert.Equal(["b"], HomePlacement.Rebalance(regions, new HashSet<string>(), HomeOf).ToArray());
        Assert.Empty(HomePlacement.Rebalance(regions, new HashSet<string> { "b" }, HomeOf));

        // While b is still gone, nothing moves.
        Assert.Empty(HomePlacement.Rebalance([Region(1, "a", "b"), Region(3, "c")], new HashSet<string>(), HomeOf));
    }

    [Fact]
    public void A_rebalance_round_moves_a_bounded_number_of_shards()
    {
        var homes = Enumerable.Range(0, 20).ToDictionary(i => $"n{i}", i => At(100 + i));
        RegionLoad<string>[] regions = [Region(1, [.. homes.Keys]), .. homes.Values.Select(a => new RegionLoad<string>($"r{a.Port}", a, []))];
        var moves = HomePlacement.Rebalance(regions, new HashSet<string>(), s => homes.GetValueOrDefault(s));
        Assert.Equal(HomePlacement.MaxMovesPerRound, moves.Count);
    }

    [Fact]
    public void Entity_ids_carry_their_home()
    {
        Assert.Equal("node-1", EntityKeys.ShardOf(EntityKeys.EntityId("node-1", "web/sidecar")));
        Assert.Throws<ArgumentException>(() => EntityKeys.EntityId("a/b", "x"));
        Assert.Throws<ArgumentException>(() => EntityKeys.ShardOf("no-home"));
    }
}
