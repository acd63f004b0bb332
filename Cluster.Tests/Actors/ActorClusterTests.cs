using Cluster.Testing.Sharded;

namespace Cluster.Tests.Actors;

/// <summary>
/// Three nodes in this process on loopback, each a real gossip pool member with an Akka node
/// formed from it: the cluster forms from gossip alone, each home's entities run on their home,
/// and a node that leaves has its entities answer again on the survivors and return when it is back.
/// </summary>
[Collection(FailureDetectionCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ActorClusterTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan IdleAfter = TimeSpan.FromMinutes(10);
    private readonly List<LabNode> _nodes = [];
    private readonly string _system = $"lab-{Guid.NewGuid():N}";

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    private async Task<LabNode> StartAsync(string name, params string[] join)
    {
        var node = await LabNode.StartAsync(name, join, IdleAfter, _system);
        _nodes.Add(node);
        return node;
    }

    [Fact]
    public async Task The_cluster_forms_from_gossip_and_each_home_s_entities_run_at_home()
    {
        var a = await StartAsync("a");
        var b = await StartAsync("b", a.Pool.Address);
        var c = await StartAsync("c", a.Pool.Address);
        await Task.WhenAll(a.Node.Up, b.Node.Up, c.Node.Up).WaitAsync(Timeout);

        foreach (var home in new[] { a, b, c })
        {
            for (var i = 0; i < 5; i++)
            {
                await AtHomeAsync(c, home, $"p{i}");
            }
        }
    }

    [Fact]
    public async Task A_node_downed_while_alive_comes_back_as_a_new_incarnation_and_its_entities_return_home()
    {
        var a = await StartAsync("a");
        var b = await StartAsync("b", a.Pool.Address);
        var c = await StartAsync("c", a.Pool.Address);
        await Task.WhenAll(a.Node.Up, b.Node.Up, c.Node.Up).WaitAsync(Timeout);
        var before = c.Node.Address;
        await AtHomeAsync(a, c, "p");

        // What a false positive of gossip's would do: c is downed although its process is fine.
        Akka.Cluster.Cluster.Get(a.Node.System).Down(before);

        // c starts a new actor system, advertises it through gossip and joins again; its home's
        // shard, freed when the old region went, is placed on the new one, so its entities run at home again.
        while (c.Node.Incarnations < 2 || !c.Node.Up.IsCompleted)
        {
            await c.Node.Changed.WaitAsync(Timeout);
        }

        Assert.NotEqual(before, c.Node.Address);
        await AtHomeAsync(a, c, "p");
    }

    /// <summary>
    /// Asks <paramref name="home"/>'s entity through <paramref name="via"/>: it answers from its
    /// home, because placement waits for a live home's region rather than start the shard elsewhere.
    /// </summary>
    private static async Task AtHomeAsync(LabNode via, LabNode home, string id)
    {
        var reply = await via.EchoAsync(home.Name, id, 0, Timeout);
        Assert.Equal(home.Node.Address.ToString(), reply.Node);
    }
}
