using System.Text.Json;
using Cluster.Gossip.Security;
using Cluster.Testing.Gossip;

namespace Cluster.Tests.Gossip;

/// <summary>
/// Pool members as separate processes on loopback (real UDP and TCP, AES-GCM, keyring files):
/// a SIGKILLed member is declared failed by all the others, a frozen-and-thawed (slow)
/// member never is, and keys rotate across the pool without a restart.
/// </summary>
[Trait("Category", "Integration")]
public sealed class GossipProcessTests : IAsyncLifetime
{
    private const int ProbeMs = 500;
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly List<GossipProcess> _processes = [];
    private readonly string _directory = Directory.CreateTempSubdirectory("gossip-processes-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }

    private async Task<GossipProcess> StartAsync(string name, string? key)
    {
        string[] args = ["--probe-ms", $"{ProbeMs}", "--keyring-file", KeyringPath(name)];
        var process = await GossipProcess.StartAsync(name, key is null ? args : [.. args, "--key", key]);
        _processes.Add(process);
        return process;
    }

    private string KeyringPath(string name) => Path.Combine(_directory, name, "local.keyring");

    /// <summary>Starts members n1..nN with one key, joins them through n1 and waits until each sees all alive.</summary>
    private async Task<List<GossipProcess>> PoolAsync(int members, string key)
    {
        var started = await Task.WhenAll(Enumerable.Range(1, members).Select(i => StartAsync($"n{i}", key)));
        foreach (var member in started.Skip(1))
        {
            Assert.Equal("joined 1", await member.AskAsync($"join {started[0].Address}", "joined", Limit));
        }

        foreach (var member in started)
        {
            await AllAliveAsync(member, members);
        }

        return [.. started];
    }

    private static async Task AllAliveAsync(GossipProcess member, int count)
    {
        // A member answers "members" at once; ask again each time it reports a join after the last answer.
        for (var asked = 0; asked <= count; asked++)
        {
            var from = member.LineCount;
            var line = await member.AskAsync("members", "members", Limit);
            if (line.Split(',').Count(m => m.EndsWith("=Alive", StringComparison.Ordinal)) == count)
            {
                return;
            }

            await member.WaitForLineAsync(l => l.StartsWith("event joined", StringComparison.Ordinal), Limit, from);
        }

        Assert.Fail($"{member.Name} never saw {count} members alive");
    }

    [Fact]
    public async Task A_killed_member_is_declared_failed_by_every_other_process_and_by_no_one_else()
    {
        var pool = await PoolAsync(5, Keyring.GenerateKey());
        var victim = pool[2];
        await victim.KillAsync();

        // Every other process declares it failed (Limit is only the safety net). How fast is the
        // model's bound, checked on virtual time in GossipSimulationTests, not on this machine's clock.
        foreach (var observer in pool.Where(p => p != victim))
        {
            await observer.WaitForLineAsync(l => l == $"event failed {victim.Name}", Limit);
        }

        Assert.All(pool, p => Assert.DoesNotContain(p.Lines, l => l.StartsWith("event failed", StringComparison.Ordinal) && l != $"event failed {victim.Name}"));
    }

    [Fact]
    public async Task A_slow_member_frozen_again_and_again_is_never_declared_failed()
    {
        var pool = await PoolAsync(5, Keyring.GenerateKey());
        var slow = pool[4];

        // Frozen 700 ms of every 1.5 s for 15 s (a CPU-throttled host): it misses whole probe
        // intervals, gets suspected, and must refute every time before the suspicion runs out.
        await slow.StarveAsync(TimeSpan.FromMilliseconds(700), TimeSpan.FromMilliseconds(1500), cycles: 10);

        // Then everyone still sees everyone alive (asked after the last thaw), and nobody ever said "failed".
        foreach (var member in pool)
        {
            await AllAliveAsync(member, 5);
        }

        Assert.All(pool, p => Assert.DoesNotContain(p.Lines, l => l.StartsWith("event failed", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Keys_rotate_across_running_processes_and_the_rotated_ring_survives_a_restart()
    {
        var oldKey = Keyring.GenerateKey();
        var newKey = Keyring.GenerateKey();
        var pool = await PoolAsync(3, oldKey);
        var (n1, n3) = (pool[0], pool[2]);

        Assert.StartsWith($"keyring ok nodes=3 primary={oldKey}:3 keys={oldKey}:3 ", await n1.AskAsync("keyring list", "keyring", Limit));
        Assert.StartsWith("keyring ok nodes=3 ", await n1.AskAsync($"keyring install {newKey}", "keyring", Limit));
        Assert.StartsWith($"keyring ok nodes=3 primary={newKey}:3 ", await n3.AskAsync($"keyring use {newKey}", "keyring", Limit));

        // The primary cannot go; every member says so and keeps it.
        var refused = await n1.AskAsync($"keyring remove {newKey}", "keyring", Limit);
        Assert.StartsWith("keyring failed nodes=3 ", refused);
        Assert.Contains("the primary key cannot be removed", refused, StringComparison.Ordinal);

        Assert.StartsWith($"keyring ok nodes=3 primary={newKey}:3 keys={newKey}:3 ", await n1.AskAsync($"keyring remove {oldKey}", "keyring", Limit));
        foreach (var member in pool)
        {
            Assert.Equal([newKey], JsonSerializer.Deserialize<string[]>(await File.ReadAllTextAsync(KeyringPath(member.Name)))!);
            await AllAliveAsync(member, 3); // nobody dropped out while the keys changed
        }

        // Only the new key gets in now; a member restarted from its keyring file rejoins with it.
        var outsider = await StartAsync("outsider", oldKey);
        Assert.Equal("joined 0", await outsider.AskAsync($"join {n1.Address}", "joined", Limit));
        await n3.KillAsync();
        var restarted = await StartAsync("n3", key: null);
        Assert.Equal("joined 1", await restarted.AskAsync($"join {n1.Address}", "joined", Limit));
        await AllAliveAsync(restarted, 3);
        Assert.All(pool, p => Assert.DoesNotContain(p.Lines, l => l.Contains("outsider", StringComparison.Ordinal)));
    }
}
