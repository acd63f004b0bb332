using Legacy.Actors;
using Legacy.Actors.Membership;
using Legacy.Actors.Remoting;
using Legacy.Actors.Sharding;
using Cluster.Testing;
using Cluster.Testing.Actors;
using Cluster.Testing.Sharding;

namespace Cluster.Tests.Actors;

/// <summary>
/// Three shard nodes in processes of their own; this test process joins as a proxy (it routes,
/// hosts nothing). A node is killed with SIGKILL, mid-life, and its entities must come back on
/// the survivors.
/// </summary>
public sealed class MultiProcessShardingTests : IAsyncLifetime
{
    private const int Entities = 60;
    private const int Shards = 30;
    private readonly List<PeerProcess> _processes = [];
    private ActorSystem? _driver;

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>This process's node; with <paramref name="nodeLostAfter"/> it, like the shard nodes, declares a silent peer lost that soon.</summary>
    private async Task StartDriverAsync(TimeSpan nodeLostAfter) =>
        _driver = await RemoteTransport.StartAsync("mesh", new RemoteOptions
        {
            Messages = [EntityCommand.Descriptor, EntityReply.Descriptor],
            NodeLostAfter = nodeLostAfter,
            HeartbeatInterval = nodeLostAfter / 5,
        });

    public async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        if (_driver is not null)
        {
            await _driver.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private static string ShardNodeDll()
    {
        // Same configuration as this test assembly (bin/<Configuration>/net10.0).
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        return Path.Combine(PeerProcess.RepoRoot, "Cluster.ShardNode", "bin", configuration, "net10.0", "Cluster.ShardNode.dll");
    }

    private async Task<PeerProcess> StartNodeAsync(params string[] args)
    {
        var process = await PeerProcess.StartServerAsync("dotnet", [ShardNodeDll(), "--shards", Shards.ToString(System.Globalization.CultureInfo.InvariantCulture), .. args], PeerProcess.RepoRoot);
        _processes.Add(process);
        return process;
    }

    private static Address AddressOf(PeerProcess process) => new("mesh", "127.0.0.1", process.Port);

    private static async Task SetMembersAsync(IEnumerable<PeerProcess> nodes, ClusterMembership driverView)
    {
        var addresses = nodes.Select(AddressOf).ToList();
        var line = "members " + string.Join(' ', addresses);
        foreach (var node in nodes)
        {
            await node.WriteLineAsync(line);
        }

        driverView.Set(addresses);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_killed_node_s_entities_restart_on_the_survivors(bool detectBySilence)
    {
        // Either membership removes the dead node at once, or nobody tells anyone and the
        // remoting failure detector (4 s of silence here, 10 s by default) must find out alone.
        var nodeLostAfter = TimeSpan.FromSeconds(detectBySilence ? 4 : 10);
        await StartDriverAsync(nodeLostAfter);
        string[] args = ["--node-lost-after", nodeLostAfter.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        var nodes = new List<PeerProcess>();
        for (var i = 0; i < 3; i++)
        {
            nodes.Add(await StartNodeAsync(args));
        }

        var membership = new ClusterMembership(_driver!, []);
        await SetMembersAsync(nodes, membership);
        var region = ClusterSharding.StartProxy(_driver!, ShardNodeOptions.For(Shards), membership);
        var probe = TestProbe.Real(_driver!, TimeSpan.FromSeconds(30));

        var before = ShardingDriver.Reach(region, probe, Enumerable.Range(0, Entities), 0);
        Assert.Equal(3, before.Values.Select(r => r.Node).Distinct().Count());

        // Kill one that is not the coordinator's host (the coordinator's move is covered in-process).
        var victim = nodes.OrderBy(AddressOf, Comparer<Address>.Create(ClusterMembership.Compare)).Last();
        var victimAddress = AddressOf(victim).ToString();
        var onVictim = before.Values.Where(r => r.Node == victimAddress).Select(r => r.EntityId).ToHashSet();
        Assert.NotEmpty(onVictim);
        await victim.KillAsync();
        nodes.Remove(victim);
        if (!detectBySilence)
        {
            await SetMembersAsync(nodes, membership);
        }

        var after = ShardingDriver.Reach(region, probe, Enumerable.Range(0, Entities), 1);
        foreach (var (id, reply) in after)
        {
            Assert.NotEqual(victimAddress, reply.Node);
            Assert.Equal(onVictim.Contains(id), reply.Incarnation != before[id].Incarnation);
        }

        ShardingDriver.AssertExactlyOnceInOrder(region, probe, Entities, burst: 5, firstSeq: 10);
    }
}
