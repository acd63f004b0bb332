using System.Net;
using Cluster.Gossip.Pool;
using Cluster.Gossip.Security;
using Cluster.Gossip.Wire;

namespace Cluster.Tests.Gossip;

/// <summary>The LAN and WAN pools in one process on loopback: names, labels, tags and saved keyrings.</summary>
public sealed class GossipPoolTests : IAsyncLifetime
{
    private readonly List<GossipPool> _pools = [];
    private readonly string _directory = Directory.CreateTempSubdirectory("gossip-pools-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var pool in _pools)
        {
            await pool.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }

    private GossipPool Start(PoolKind kind, string node, string dc, Keyring? keyring, string? keyringFile = null)
    {
        var pool = GossipPool.Start(new PoolOptions
        {
            Kind = kind,
            NodeName = node,
            Datacenter = dc,
            Bind = new IPEndPoint(IPAddress.Loopback, 0),
            Keyring = keyring,
            KeyringFile = keyringFile,
            Tags = new Dictionary<string, string> { ["role"] = "server" },
        });
        _pools.Add(pool);
        return pool;
    }

    [Fact]
    public async Task Wan_members_are_named_node_dot_dc_and_carry_their_datacenter()
    {
        var key = Keyring.ParseKey(Keyring.GenerateKey());
        var east = Start(PoolKind.Wan, "s1", "east", new Keyring([key]));
        var west = Start(PoolKind.Wan, "s1", "west", new Keyring([key]));
        Assert.Equal(1, await west.JoinAsync([east.Address]));

        var member = Assert.Single(west.Members, m => m.Name == "s1.east");
        Assert.Equal("east", member.Tags["dc"]);
        Assert.Equal("server", member.Tags["role"]);
        Assert.Equal(MemberStatus.Alive, member.Status);
    }

    [Fact]
    public async Task A_packet_of_one_pool_does_not_open_in_another_under_the_same_key()
    {
        var key = Keyring.ParseKey(Keyring.GenerateKey());
        var lan = Start(PoolKind.Lan, "a", "dc1", new Keyring([key]));
        var wan = Start(PoolKind.Wan, "b", "dc1", new Keyring([key]));
        var otherDc = Start(PoolKind.Lan, "c", "dc2", new Keyring([key]));

        Assert.Equal(0, await wan.JoinAsync([lan.Address]));
        Assert.Equal(0, await otherDc.JoinAsync([lan.Address]));
        Assert.Single(lan.Members);
        Assert.True(lan.DroppedPackets >= 2);
    }

    [Fact]
    public async Task A_saved_keyring_wins_over_the_start_key_and_a_damaged_one_stops_the_start()
    {
        var file = Path.Combine(_directory, "serf", "local.keyring");
        var first = Keyring.GenerateKey();
        var rotated = Keyring.GenerateKey();
        var pool = Start(PoolKind.Lan, "a", "dc1", new Keyring([Keyring.ParseKey(first)]), file);
        Assert.True((await pool.InstallKeyAsync(rotated)).Succeeded);
        Assert.True((await pool.UseKeyAsync(rotated)).Succeeded);
        await pool.DisposeAsync();
        _pools.Remove(pool);

        var restarted = Start(PoolKind.Lan, "a", "dc1", new Keyring([Keyring.ParseKey(first)]), file);
        Assert.Equal([rotated, first], restarted.Keyring!.List());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }

        await File.WriteAllTextAsync(file, "[\n  \"not-base64!\"\n]");
        var bad = Assert.Throws<InvalidDataException>(() => Start(PoolKind.Lan, "b", "dc1", null, file));
        Assert.Contains(file, bad.Message, StringComparison.Ordinal);
        Assert.Contains("base64", bad.Message, StringComparison.Ordinal);

        await File.WriteAllTextAsync(file, "[\n  \"abc\",");
        var truncated = Assert.Throws<InvalidDataException>(() => Start(PoolKind.Lan, "b", "dc1", null, file));
        Assert.StartsWith($"{file}:", truncated.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keyring_operations_refuse_a_malformed_key_before_asking_anyone_and_need_encryption()
    {
        var plain = Start(PoolKind.Lan, "p", "dc1", null);
        await Assert.ThrowsAsync<InvalidOperationException>(plain.ListKeysAsync);
        var sealedPool = Start(PoolKind.Lan, "s", "dc1", new Keyring([Keyring.ParseKey(Keyring.GenerateKey())]));
        await Assert.ThrowsAsync<ArgumentException>(() => sealedPool.InstallKeyAsync("short"));
        var listed = await sealedPool.ListKeysAsync();
        Assert.True(listed.Succeeded);
        Assert.Equal(1, listed.NumNodes);
    }
}
