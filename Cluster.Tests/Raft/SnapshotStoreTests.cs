using System.Text;
using Cluster.Raft.Storage;

namespace Cluster.Tests.Raft;

public sealed class SnapshotStoreTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "snap-" + Guid.NewGuid().ToString("n"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static Func<Stream, Task> Text(string text) => async stream => await stream.WriteAsync(Encoding.UTF8.GetBytes(text));

    [Fact]
    public async Task The_newest_snapshot_is_loaded_and_older_ones_are_pruned()
    {
        var store = new SnapshotStore(_dir);
        await store.SaveAsync(10, 1, Text("ten"));
        await store.SaveAsync(20, 2, Text("twenty"));
        await store.SaveAsync(30, 2, Text("thirty"));
        var newest = store.LoadNewest();
        Assert.Equal((30UL, 2UL, "thirty"), (newest!.Value.Index, newest.Value.Term, Encoding.UTF8.GetString(newest.Value.Data)));
        Assert.Equal(2, Directory.GetFiles(_dir, "*.snap").Length);
    }

    [Fact]
    public async Task A_damaged_snapshot_is_skipped_for_the_previous_one()
    {
        var store = new SnapshotStore(_dir);
        await store.SaveAsync(10, 1, Text("ten"));
        await store.SaveAsync(20, 2, Text("twenty"));
        var newestPath = Directory.GetFiles(_dir, "*.snap").Order(StringComparer.Ordinal).Last();
        var bytes = File.ReadAllBytes(newestPath);
        bytes[0] ^= 1;
        File.WriteAllBytes(newestPath, bytes);
        var skipped = new List<string>();
        var loaded = store.LoadNewest(skipped);
        Assert.Equal(10UL, loaded!.Value.Index);
        Assert.Equal([newestPath], skipped);
    }

    [Fact]
    public async Task A_write_interrupted_by_a_crash_leaves_nothing_behind()
    {
        var store = new SnapshotStore(_dir);
        await Assert.ThrowsAsync<IOException>(() => store.SaveAsync(5, 1, async s =>
        {
            await s.WriteAsync(new byte[100]);
            throw new IOException("disk gone");
        }));
        Assert.Empty(Directory.GetFiles(_dir));
        Assert.Null(store.LoadNewest());
    }

    [Fact]
    public void An_empty_directory_has_no_snapshot() => Assert.Null(new SnapshotStore(_dir).LoadNewest());
}
