using Cluster.Contracts.State;
using Cluster.Server.State;
using Cluster.Server.Streaming;
using Cluster.Tests.Server;

namespace Cluster.Tests.Streaming;

/// <summary>
/// The subscription driver over a real store's change feed, pulled step by step by the test:
/// snapshot then changes, resume from an index, a reader that stalls, a restore.
/// </summary>
public sealed class SubscriptionTests
{
    /// <summary>A safety net only: each awaited event is already due when the test asks for it.</summary>
    private static readonly TimeSpan Due = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_subscription_sends_a_snapshot_then_each_change_in_index_order()
    {
        var h = new StateStoreHarness();
        h.Set("app/a", "1");
        h.Set("app/b", "1");
        h.Set("other/x");
        await using var reader = Subscription.RunAsync(h.Store, new KvTopic("app/"), 0).GetAsyncEnumerator();

        Assert.Equal(["@3 end-of-snapshot: upsert app/a=1, upsert app/b=1"], await TakeAsync(reader, 1));
        h.Set("app/c", "1");
        h.Set("other/y");
        h.Delete("app/a");
        Assert.Equal(["@6: delete app/a, upsert app/c=1"], await TakeAsync(reader, 1)); // one message: the reader pulled after all three
        h.Set("app/d", "1");
        h.Set("other/z");
        h.Set("app/e", "1");
        Assert.Equal(["@9: upsert app/d=1, upsert app/e=1"], await TakeAsync(reader, 1));
    }

    [Fact]
    public async Task A_reader_that_comes_back_with_its_index_gets_only_what_changed_since()
    {
        var h = new StateStoreHarness();
        h.Set("app/a", "1");
        var view = new SubscriptionView();
        await using (var first = Subscription.RunAsync(h.Store, new KvTopic("app/"), 0).GetAsyncEnumerator())
        {
            await ApplyUntilReadyAsync(first, view);
        }

        h.Set("app/b", "2");
        h.Delete("app/a");
        h.Set("app/c", "3");
        await using var resumed = Subscription.RunAsync(h.Store, new KvTopic("app/"), view.Index).GetAsyncEnumerator();
        var changes = await NextAsync(resumed);
        Assert.False(changes.NewSnapshotToFollow || changes.EndOfSnapshot);
        Assert.Equal(h.Index, changes.Index);
        view.Apply(changes);

        Assert.Equal(Kvs(h.State, "app/"), ViewKvs(view));
        Assert.Equal(1, view.Snapshots);
    }

    [Fact]
    public async Task A_reader_whose_index_the_feed_no_longer_keeps_gets_a_new_snapshot()
    {
        var h = new StateStoreHarness(retainedBatches: 4);
        h.Set("app/a", "1");
        var index = h.Index;
        for (var i = 0; i < 10; i++)
        {
            h.Set($"app/k{i}", "x");
        }

        h.Delete("app/a");
        await using var reader = Subscription.RunAsync(h.Store, new KvTopic("app/"), index).GetAsyncEnumerator();
        var events = await TakeRawAsync(reader, 2);
        Assert.True(events[0].NewSnapshotToFollow);
        Assert.Equal(index, events[0].Index);
        Assert.True(events[1].EndOfSnapshot);
        Assert.Equal(h.Index, events[1].Index);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"upsert app/k{i}=x"), SubscriptionTopicTests.Describe(events[1].Changes));
    }

    [Fact]
    public async Task A_reader_that_stalls_past_what_the_feed_keeps_is_reset_with_a_snapshot_not_a_backlog()
    {
        var h = new StateStoreHarness(retainedBatches: 8);
        h.Set("app/a", "1");
        var view = new SubscriptionView();
        await using var reader = Subscription.RunAsync(h.Store, new KvTopic("app/"), 0).GetAsyncEnumerator();
        await ApplyUntilReadyAsync(reader, view);
        h.Set("app/b", "1");
        view.Apply(await NextAsync(reader));

        // The reader stops pulling while 100 writes commit: far more than the feed keeps.
        for (var i = 0; i < 100; i++)
        {
            h.Set($"app/k{i % 10}", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        h.Delete("app/a");
        var resetAt = view.Index;
        var first = await NextAsync(reader);
        Assert.True(first.NewSnapshotToFollow);
        Assert.Equal(resetAt, first.Index);
        view.Apply(first);
        Assert.Equal(2, view.Entries.Count); // the old entries stay readable while the new snapshot arrives
        await ApplyUntilReadyAsync(reader, view, snapshots: 2);
        Assert.Equal(h.Index, view.Index);
        Assert.Equal(Kvs(h.State, "app/"), ViewKvs(view));
    }

    [Fact]
    public async Task A_restored_snapshot_resets_every_reader()
    {
        var source = new StateStoreHarness();
        source.Set("app/from-snapshot", "s");
        var h = new StateStoreHarness();
        h.Set("app/a", "1");
        var view = new SubscriptionView();
        await using var reader = Subscription.RunAsync(h.Store, new KvTopic("app/"), 0).GetAsyncEnumerator();
        await ApplyUntilReadyAsync(reader, view);

        h.Store.Restore(StateStoreHarness.SnapshotBytes(source.Store));

        var reset = await NextAsync(reader);
        Assert.True(reset.NewSnapshotToFollow);
        view.Apply(reset);
        await ApplyUntilReadyAsync(reader, view, snapshots: 2);
        Assert.Equal(new Dictionary<string, string> { ["app/from-snapshot"] = "s" }, ViewKvs(view));
    }

    /// <summary>
    /// A seeded random history of catalog writes (nodes, services renamed and moved, checks,
    /// deregistrations): after it, a reader's view of a service's health is exactly what a
    /// health read says, whether it followed along from the start or resumed half-way.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task A_view_kept_by_service_health_events_matches_a_health_read_after_a_random_history(int seed)
    {
        var random = new Random(seed);
        var h = new StateStoreHarness();
        h.RegisterNode("n0");
        h.RegisterNode("n9");
        var follower = new SubscriptionView();
        await using var reader = Subscription.RunAsync(h.Store, new ServiceHealthTopic("web"), 0).GetAsyncEnumerator();
        await ApplyUntilReadyAsync(reader, follower);
        var late = new SubscriptionView();
        ulong lateFrom = 0;
        for (var step = 0; step < 200; step++)
        {
            var node = $"n{random.Next(4)}";
            switch (random.Next(7))
            {
                case 0:
                    h.RegisterNode(node, address: $"10.0.0.{random.Next(9)}");
                    break;
                case 1 or 2:
                    h.RegisterNode(node);
                    h.RegisterService(node, $"svc-{random.Next(3)}", random.Next(3) == 0 ? "db" : "web");
                    break;
                case 3:
                    h.RegisterNode(node);
                    h.RegisterCheck(node, $"c{random.Next(3)}", random.Next(2) == 0 ? "passing" : "critical", random.Next(2) == 0 ? "" : $"svc-{random.Next(3)}");
                    break;
                case 4:
                    h.Deregister(node, serviceId: $"svc-{random.Next(3)}");
                    break;
                case 5:
                    h.Deregister(node, checkId: $"c{random.Next(3)}");
                    break;
                default:
                    if (random.Next(6) == 0)
                    {
                        h.Deregister(node);
                    }

                    break;
            }

            // The sentinel's change gives each step a message every reader gets.
            h.RegisterService("n9", "sentinel", "web", $"step-{step}");
            await CatchUpAsync(reader, follower, h.Index);
            if (step == 100)
            {
                late = CopyOf(follower);
                lateFrom = follower.Index;
            }
        }

        h.RegisterService("n9", "sentinel", "web", "last");
        await CatchUpAsync(reader, follower, h.Index);
        await using var resumed = Subscription.RunAsync(h.Store, new ServiceHealthTopic("web"), lateFrom).GetAsyncEnumerator();
        await CatchUpAsync(resumed, late, h.Index);

        var expected = h.State.HealthService("web").Result.ToDictionary(i => SubscriptionView.InstanceKey(i.Node.Name, i.Service.Id), i => Instance(i));
        Assert.Equal(expected, follower.Entries.ToDictionary(e => e.Key, e => (string)e.Value.ToString()!));
        Assert.Equal(expected, late.Entries.ToDictionary(e => e.Key, e => (string)e.Value.ToString()!));
    }

    private static string Instance(ServiceInstance i) =>
        new CatalogInstance { Node = i.Node, Service = i.Service, Checks = { i.Checks } }.ToString();

    private static SubscriptionView CopyOf(SubscriptionView view)
    {
        var copy = new SubscriptionView();
        foreach (var (_, entry) in view.Entries)
        {
            copy.Apply(new SubscribeEvent { Changes = { new SubscribeChange { InstanceUpsert = (CatalogInstance)entry } } });
        }

        copy.Apply(new SubscribeEvent { Index = view.Index, EndOfSnapshot = true });
        return copy;
    }

    private static async Task CatchUpAsync(IAsyncEnumerator<SubscribeEvent> reader, SubscriptionView view, ulong index)
    {
        while (!view.Ready || view.Index < index)
        {
            view.Apply(await NextAsync(reader));
        }
    }

    private static async Task ApplyUntilReadyAsync(IAsyncEnumerator<SubscribeEvent> reader, SubscriptionView view, int snapshots = 1)
    {
        while (view.Snapshots < snapshots)
        {
            view.Apply(await NextAsync(reader));
        }
    }

    private static async Task<SubscribeEvent> NextAsync(IAsyncEnumerator<SubscribeEvent> reader)
    {
        Assert.True(await reader.MoveNextAsync().AsTask().WaitAsync(Due));
        return reader.Current;
    }

    private static async Task<List<SubscribeEvent>> TakeRawAsync(IAsyncEnumerator<SubscribeEvent> reader, int count)
    {
        var events = new List<SubscribeEvent>();
        for (var i = 0; i < count; i++)
        {
            events.Add(await NextAsync(reader));
        }

        return events;
    }

    private static async Task<List<string>> TakeAsync(IAsyncEnumerator<SubscribeEvent> reader, int count) =>
        [.. (await TakeRawAsync(reader, count)).Select(e => $"@{e.Index}{(e.EndOfSnapshot ? " end-of-snapshot" : "")}: {string.Join(", ", SubscriptionTopicTests.Describe(e.Changes))}")];

    private static Dictionary<string, string> Kvs(StateVersion state, string prefix) =>
        state.KvList(prefix).Result.ToDictionary(e => e.Key, e => e.Value.ToStringUtf8());

    private static Dictionary<string, string> ViewKvs(SubscriptionView view) =>
        view.Entries.ToDictionary(e => e.Key, e => ((KvEntry)e.Value).Value.ToStringUtf8());
}
