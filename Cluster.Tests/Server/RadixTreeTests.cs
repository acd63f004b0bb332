using Cluster.Server.State;

namespace Cluster.Tests.Server;

public sealed class RadixTreeTests
{
    [Fact]
    public void Matches_a_sorted_dictionary_through_random_writes_and_keeps_old_versions_intact()
    {
        var random = new Random(11);
        string[] alphabet = ["a", "b", "ab", "abc", "/", "ba", "x/"];
        var tree = new RadixTree<int>();
        var model = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var versions = new List<(RadixTree<int> Tree, List<KeyValuePair<string, int>> Entries)>();
        for (var step = 0; step < 4000; step++)
        {
            var writer = tree.Write();
            for (var op = random.Next(1, 4); op > 0; op--)
            {
                var key = string.Concat(Enumerable.Range(0, random.Next(0, 4)).Select(_ => alphabet[random.Next(alphabet.Length)]));
                if (random.Next(3) == 0)
                {
                    Assert.Equal(model.Remove(key), writer.Delete(key));
                }
                else
                {
                    writer.Set(key, step);
                    model[key] = step;
                }
            }

            tree = writer.Commit();
            Assert.Equal(model.Count, tree.Count);
            Assert.Equal(model.ToList(), tree.PrefixWatch("").Entries);
            var probe = string.Concat(Enumerable.Range(0, random.Next(0, 3)).Select(_ => alphabet[random.Next(alphabet.Length)]));
            Assert.Equal(model.Where(e => e.Key.StartsWith(probe, StringComparison.Ordinal)).ToList(), tree.PrefixWatch(probe).Entries);
            Assert.Equal(model.TryGetValue(probe, out var expected), tree.TryGet(probe, out var actual));
            Assert.Equal(expected, actual);
            if (step % 500 == 0)
            {
                versions.Add((tree, model.ToList()));
            }
        }

        Assert.All(versions, v => Assert.Equal(v.Entries, v.Tree.PrefixWatch("").Entries));
    }

    [Fact]
    public void A_key_watch_fires_only_when_that_key_changes_and_a_prefix_watch_when_anything_under_it_does()
    {
        var tree = Apply(new RadixTree<string>(), w =>
        {
            w.Set("kv/app/a", "1");
            w.Set("kv/app/b", "1");
            w.Set("kv/other", "1");
        });
        var (_, _, a) = tree.GetWatch("kv/app/a");
        var (_, app) = tree.PrefixWatch("kv/app/");
        var (_, _, missing) = tree.GetWatch("kv/app/c");

        tree = Apply(tree, w => w.Set("kv/other", "2"));
        Assert.False(a.IsCompleted);
        Assert.False(app.IsCompleted);

        tree = Apply(tree, w => w.Set("kv/app/b", "2"));
        Assert.False(a.IsCompleted);
        Assert.True(app.IsCompleted);

        var (_, _, a2) = tree.GetWatch("kv/app/a");
        Assert.Same(a, a2);
        tree = Apply(tree, w => w.Set("kv/app/c", "new"));
        Assert.True(missing.IsCompleted);
        Assert.False(a.IsCompleted);

        // Watches taken from the newest version are fresh: no reader spins on an old completion.
        var (_, fresh) = tree.PrefixWatch("kv/");
        Assert.False(fresh.IsCompleted);
        tree = Apply(tree, w => w.Delete("kv/app/a"));
        Assert.True(a.IsCompleted);
        Assert.True(fresh.IsCompleted);
        Assert.False(tree.PrefixWatch("kv/").Changed.IsCompleted);
        Assert.False(tree.GetWatch("kv/app/b").Changed.IsCompleted);
    }

    private static RadixTree<string> Apply(RadixTree<string> tree, Action<RadixTree<string>.Writer> write)
    {
        var writer = tree.Write();
        write(writer);
        return writer.Commit();
    }
}
