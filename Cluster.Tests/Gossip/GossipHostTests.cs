using System.Net;
using Cluster.Gossip.Core;
using Cluster.Gossip.Security;
using Cluster.Gossip.Transport;
using Cluster.Gossip.Wire;

namespace Cluster.Tests.Gossip;

/// <summary>Gossip members on real UDP and TCP sockets on loopback, encrypted, with fast timers.</summary>
[Trait("Category", "Integration")]
public sealed class GossipHostTests : IAsyncLifetime
{
    private static readonly byte[] Key = Keyring.ParseKey(Keyring.GenerateKey());
    private readonly List<GossipHost> _hosts = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }
    }

    private static GossipOptions Fast(string name, string address) => new()
    {
        Name = name,
        Address = address,
        ProbeInterval = TimeSpan.FromMilliseconds(200),
        ProbeTimeout = TimeSpan.FromMilliseconds(100),
        GossipInterval = TimeSpan.FromMilliseconds(50),
        PushPullInterval = TimeSpan.FromSeconds(5),
    };

    private GossipHost Start(string name, byte[] key)
    {
        var host = GossipHost.Start(new IPEndPoint(IPAddress.Loopback, 0), address => Fast(name, address), new Keyring([key]), "lan:dc1", random: new Random(name.GetHashCode(StringComparison.Ordinal)));
        _hosts.Add(host);
        return host;
    }

    /// <summary>Waits until <paramref name="condition"/> holds, re-checking whenever any member handled something (bounded).</summary>
    private async Task EventuallyAsync(Func<bool> condition, TimeSpan limit)
    {
        using var deadline = new CancellationTokenSource(limit);
        while (true)
        {
            var changed = _hosts.Select(h => h.Changed).ToList(); // taken before the check: no change is missed
            if (condition())
            {
                return;
            }

            await Task.WhenAny(changed).WaitAsync(deadline.Token);
        }
    }

    [Fact]
    public async Task Members_meet_over_encrypted_udp_and_tcp_and_a_killed_one_is_declared_failed_by_all()
    {
        var hosts = Enumerable.Range(0, 5).Select(i => Start($"m{i}", Key)).ToList();
        foreach (var host in hosts.Skip(1))
        {
            host.Join([hosts[0].Address]);
        }

        await EventuallyAsync(() => hosts.All(h => h.Members.Count(m => m.Status == MemberStatus.Alive) == 5), TimeSpan.FromSeconds(20));

        var intruder = Start("intruder", Keyring.ParseKey(Keyring.GenerateKey())); // wrong key
        intruder.Join([hosts[0].Address]);
        await EventuallyAsync(() => hosts[0].DroppedPackets > 0, TimeSpan.FromSeconds(10));
        Assert.All(hosts, h => Assert.Null(h.Find("intruder")));

        var victim = hosts[3];
        hosts.Remove(victim);
        _hosts.Remove(victim);
        await victim.DisposeAsync(); // the process is gone: no leave message
        // Every other member declares it dead (30 s is only the safety net). How fast is the model's
        // bound, checked on virtual time in GossipSimulationTests, not on this machine's clock.
        await EventuallyAsync(() => hosts.All(h => h.Find("m3")?.Status == MemberStatus.Dead), TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(hosts.SelectMany(h => h.TakeEvents()), e => e.Kind == MembershipEventKind.Failed && e.Member.Name != "m3");
    }
}
