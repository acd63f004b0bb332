using Cluster.Gossip.Security;
using Cluster.Testing;

namespace Cluster.Tests.Cli;

/// <summary>The `cluster` executable, run as a user runs it.</summary>
[Trait("Category", "Integration")]
public sealed class KeygenTests
{
    private static async Task<(int Exit, string Stdout, string Stderr)> ClusterAsync(params string[] args) =>
        await PeerProcess.RunAsync("dotnet", [PeerProcess.BuiltDll("Cluster.Cli", "cluster"), .. args], TimeSpan.FromSeconds(60));

    [Fact]
    public async Task Keygen_prints_a_fresh_32_byte_key_that_a_keyring_accepts()
    {
        var first = await ClusterAsync("keygen");
        var second = await ClusterAsync("keygen");
        Assert.Equal(0, first.Exit);
        Assert.Equal(32, Keyring.ParseKey(first.Stdout.Trim()).Length);
        Assert.NotEqual(first.Stdout, second.Stdout);
        Assert.Equal("", first.Stderr);
    }

    [Fact]
    public async Task Unknown_commands_and_stray_arguments_get_a_clear_error_and_exit_code_1()
    {
        var unknown = await ClusterAsync("keygne");
        Assert.Equal(1, unknown.Exit);
        Assert.Contains("unknown command \"keygne\"", unknown.Stderr, StringComparison.Ordinal);
        Assert.Contains("keygen", unknown.Stderr, StringComparison.Ordinal);

        var stray = await ClusterAsync("keygen", "-x");
        Assert.Equal(1, stray.Exit);
        Assert.Contains("takes no arguments", stray.Stderr, StringComparison.Ordinal);
        Assert.Equal("", stray.Stdout);
    }
}
