using Cluster.Testing;
using Cluster.Testing.Sharded;
using AkkaCluster = Akka.Cluster.Cluster;
using AkkaStatus = Akka.Cluster.MemberStatus;
using GossipStatus = Cluster.Gossip.Wire.MemberStatus;

namespace Cluster.Tests.Actors;

/// <summary>
/// Three cluster nodes in processes of their own (Cluster.ShardNode) and this process as a
/// fourth member (its region runs too, as on every node: the coordinator writes its state to
/// all of them, so a node that only routes would hold every write up; no entity is homed on it). One node is SIGKILLed: gossip declares it failed, formation
/// downs it in Akka, its home's entities answer again on a survivor, and the gossip pool and
/// Akka agree on who is gone.
/// </summary>
[Collection(FailureDetectionCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ProcessKillTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly List<PeerProcess> _processes = [];
    private readonly string _system = $"kill-{Guid.NewGuid():N}";
    private LabNode? _driver;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_driver is not null)
        {
            await _driver.DisposeAsync();
        }

        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }
    }

    private async Task<PeerProcess> StartNodeAsync(string name, params string[] args)
    {
        var process = await PeerProcess.StartServerAsync("dotnet", [PeerProcess.BuiltDll("Cluster.ShardNode", "Cluster.ShardNode"), "--name", name, "--system", _system, .. args], PeerProcess.RepoRoot);
        _processes.Add(process);
        return process;
    }

    [Fact]
    public async Task A_killed_node_s_entities_answer_on_the_survivors_and_gossip_and_akka_agree_it_is_down()
    {
        try
        {
            await KillScenarioAsync();
        }
        catch (Exception e) when (e is TimeoutException or ArgumentException or Xunit.Sdk.XunitException)
        {
            // The nodes' own logs (Akka's warnings) say why.
            throw new InvalidOperationException(e.Message + "\n" + string.Join("\n", _processes.Select((p, i) => $"--- node {i + 1} stderr ---\n{p.Stderr[Math.Max(0, p.Stderr.Length - 4000)..]}")), e);
        }
    }

    private async Task KillScenarioAsync()
    {
        var n1 = await StartNodeAsync("n1");
        var seed = $"127.0.0.1:{n1.Port}";
        var n2 = await StartNodeAsync("n2", "--join", seed);
        await StartNodeAsync("n3", "--join", seed);
        _driver = await LabNode.StartAsync("driver", [seed], TimeSpan.FromMinutes(10), _system);
        await _driver.Node.Up.WaitAsync(Timeout);
        var cluster = AkkaCluster.Get(_driver.Node.System);
        await UntilAsync(() => cluster.State.Members.Count(m => m.Status == AkkaStatus.Up) == 4, "4 Akka members up");

        string[] homes = ["n1", "n2", "n3"];
        foreach (var home in homes)
        {
            for (var i = 0; i < 10; i++)
            {
                // At home: placement waits for a live home's region rather than start the shard elsewhere.
                var reply = await _driver.EchoAsync(home, $"e{i}", 0, Timeout);
                Assert.True(reply.Node == _driver.Node.Directory.Find(home)!.ToString(), $"{home}/e{i} ran on {reply.Node}, not at home");
            }
        }

        var n2Address = _driver.Node.Directory.Find("n2")!;
        await n2.KillAsync();

        // Every n2 entity answers again, now on a survivor.
        for (var i = 0; i < 10; i++)
        {
            var reply = await _driver.EchoAsync("n2", $"e{i}", 100 + i, Timeout);
            Assert.NotEqual(n2Address.ToString(), reply.Node);
        }

        // The survivors' entities never moved: the same incarnation answers.
        Assert.True((await _driver.EchoAsync("n1", "e0", 200, Timeout)).Count >= 2);

        // One failure detector: gossip says n2 failed, Akka has removed exactly that member, and
        // nobody else is down or unreachable in either view.
        await UntilAsync(
            () => _driver.Pool.Members.Single(m => m.Name == "n2").Status == GossipStatus.Dead
                && cluster.State.Members.All(m => !m.Address.Equals(n2Address))
                && cluster.State.Unreachable.Count == 0,
            "n2 failed in gossip and removed from Akka");
        var gossipAlive = _driver.Pool.Members.Where(m => m.Status == GossipStatus.Alive).Select(m => m.Name).Order(StringComparer.Ordinal);
        Assert.Equal(["driver", "n1", "n3"], gossipAlive);
        var akkaUp = cluster.State.Members.Where(m => m.Status == AkkaStatus.Up).Select(m => m.Address).ToHashSet();
        Assert.Equal(gossipAlive.Select(n => _driver.Node.Directory.Find(n)!).ToHashSet(), akkaUp);
    }

    /// <summary>Waits for a condition on cluster state, re-checking on every gossip or Akka change (bounded).</summary>
    private async Task UntilAsync(Func<bool> done, string what)
    {
        using var cts = new CancellationTokenSource(Timeout);
        while (!done())
        {
            if (cts.IsCancellationRequested)
            {
                throw new TimeoutException($"not reached within {Timeout}: {what}");
            }

            // Either view changing is what can make the condition true: gossip's change signal, and
            // the node's formation round, which runs on every Akka membership or reachability event.
            await Task.WhenAny(_driver!.Pool.Changed, _driver.Node.Changed).WaitAsync(cts.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }
}
