using Cluster.Server.State;
using Cluster.Contracts.State;
using Verb = Cluster.Contracts.State.KvOp.Types.Verb;

namespace Cluster.Tests.Server;

public sealed class StateStoreSnapshotTests
{
    [Fact]
    public void Restore_of_a_snapshot_gives_an_equal_state_indexes_included()
    {
        var a = Populated();
        var b = new StateStore();
        b.Restore(StateStoreHarness.SnapshotBytes(a.Store));

        Assert.Equal(StateStoreHarness.Capture(a.Store), StateStoreHarness.Capture(b));
        AssertSameState(a.State, b.Current);
    }

    [Fact]
    public void An_empty_store_round_trips()
    {
        var b = new StateStore();
        b.Restore(StateStoreHarness.SnapshotBytes(new StateStore()));
        Assert.Equal(new Snapshot(), StateStoreHarness.Capture(b));
        AssertSameState(new StateStore().Current, b.Current);
    }

    [Fact]
    public void Restore_replaces_the_whole_state()
    {
        var a = Populated();
        var b = new StateStoreHarness();
        for (var i = 0; i < 40; i++)
        {
            b.Set($"other/{i}");
        }

        b.RegisterNode("elsewhere");
        b.Store.Restore(StateStoreHarness.SnapshotBytes(a.Store));
        Assert.Equal(StateStoreHarness.Capture(a.Store), StateStoreHarness.Capture(b.Store));
        Assert.Empty(b.State.KvList("other/").Result);
        Assert.Null(b.State.NodeGet("elsewhere").Result);
        Assert.Equal(a.Index, b.State.Index);
    }

    [Fact]
    public void Restore_fires_every_watch_of_the_old_state_and_resets_the_feed()
    {
        var h = Populated();
        var state = h.State;
        var watches = new List<Task>();
        watches.AddRange(state.KvGet("app/config").Watches);
        watches.AddRange(state.KvGet("never/written").Watches);
        watches.AddRange(state.KvList("app/").Watches);
        watches.AddRange(state.KvList("zzz").Watches);
        watches.AddRange(state.NodeGet("n1").Watches);
        watches.AddRange(state.NodeList().Watches);
        watches.AddRange(state.ServiceNodes("web").Watches);
        watches.AddRange(state.HealthService("web").Watches);
        watches.AddRange(state.NodeChecks("n1").Watches);
        watches.AddRange(state.ServiceChecks("web").Watches);
        watches.AddRange(state.SessionGet("locker").Watches);
        watches.AddRange(state.NodeSessions("n1").Watches);
        watches.AddRange(state.SessionList().Watches);
        watches.AddRange(state.ConfigGet("service-defaults", "web").Watches);
        watches.AddRange(state.ConfigList("service-defaults").Watches);
        watches.Add(state.Tombstones.Changed);
        Assert.All(watches, w => Assert.False(w.IsCompleted));
        var batch = h.Store.Events.Latest;
        var applied = h.Store.Applied;

        // Even restoring the very same state wakes every reader: a restore replaces every tree.
        h.Store.Restore(StateStoreHarness.SnapshotBytes(h.Store));
        Assert.All(watches, w => Assert.True(w.IsCompleted));
        Assert.True(applied.IsCompleted);
        Assert.False(h.Store.Applied.IsCompleted);
        var published = Assert.IsType<EventBatch>(StateStoreHarness.NextBatch(batch));
        Assert.Equal(h.Index, published.Index);
        Assert.Equal([new StateEvent("restore", "", h.Index)], published.Events);
        AssertSameState(state, h.State);
    }

    [Fact]
    public void Writes_after_a_restore_behave_exactly_as_on_the_original()
    {
        var a = Populated();
        var b = new StateStoreHarness();
        b.Store.Restore(StateStoreHarness.SnapshotBytes(a.Store));
        var next = a.Index;
        foreach (var command in FollowUps())
        {
            next++;
            var expected = a.Store.Apply(next, command.Clone());
            var actual = b.Store.Apply(next, command.Clone());
            Assert.Equal(expected, actual);
            Assert.Equal(StateStoreHarness.Capture(a.Store), StateStoreHarness.Capture(b.Store));
            AssertSameState(a.State, b.Store.Current);
        }
    }

    [Fact]
    public void A_snapshot_is_of_the_version_it_was_taken_from()
    {
        var h = Populated();
        var bytes = StateStoreHarness.SnapshotBytes(h.Store);
        var expected = StateStoreHarness.Capture(h.Store);
        h.DeleteTree("");
        h.Deregister("n1");
        var b = new StateStore();
        b.Restore(bytes);
        Assert.Equal(expected, StateStoreHarness.Capture(b));
    }

    [Fact]
    public void Lock_delays_are_not_in_the_snapshot()
    {
        // As in Consul: a lock delay lasts seconds and is kept in memory only.
        var h = Populated();
        h.CreateSession("delayed", "n1", lockDelayMs: 60_000);
        h.Lock("delayed/key", "delayed");
        h.DestroySession("delayed");
        Assert.NotEmpty(h.State.LockDelays);
        var b = new StateStore();
        b.Restore(StateStoreHarness.SnapshotBytes(h.Store));
        Assert.Empty(b.Current.LockDelays);
    }

    /// <summary>A store with some of everything: nodes in mixed case, services, checks of both kinds, sessions holding locks, tombstones, config.</summary>
    internal static StateStoreHarness Populated()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1", meta: new Dictionary<string, string> { ["rack"] = "r1" });
        h.RegisterNode("Node-Two", address: "10.0.0.2");
        h.RegisterService("n1", "web-1", "web", "v1", "primary");
        h.RegisterService("Node-Two", "web-2", "Web", "v2");
        h.RegisterService("n1", "db", "db");
        h.RegisterCheck("n1", "serfHealth", "passing");
        h.RegisterCheck("n1", "web-1-check", "passing", "web-1");
        h.RegisterCheck("Node-Two", "web-2-check", "warning", "web-2");
        h.RegisterCheck("n1", "db-check", "critical", "db");
        h.CreateSession("locker", "n1", nodeChecks: "serfHealth");
        h.CreateSession("deleter", "node-two", behavior: "delete", lockDelayMs: 15_000);
        for (var i = 0; i < 20; i++)
        {
            h.Set($"app/item/{i:D2}", $"value {i}", flags: (ulong)i);
        }

        h.Set("app/config", "{}");
        h.Lock("app/leader", "locker", "me");
        h.Lock("app/ephemeral", "deleter", "tmp");
        h.Txn(StateStoreHarness.Op(Verb.Delete, "app/item/03"), StateStoreHarness.Op(Verb.Set, "app/item/20", "new"));
        h.DeleteTree("app/item/1");
        h.Set("top");
        h.Config(ConfigOp.Types.Verb.Upsert, "service-defaults", "web", """{"Protocol":"http"}""");
        h.Config(ConfigOp.Types.Verb.Upsert, "proxy-defaults", "global", "{}");
        h.Skip();
        return h;
    }

    private static IEnumerable<Command> FollowUps()
    {
        static Command Kv(KvOp op) => new() { Kv = op, UnixMs = 1_700_000_000_000 };
        static Command Register(string node, Service? service = null, params Check[] checks)
        {
            var register = new Register { Node = new Node { Name = node }, SkipNodeUpdate = true, Service = service };
            register.Checks.AddRange(checks);
            return new Command { Register = register };
        }

        yield return Kv(StateStoreHarness.Op(Verb.Set, "app/item/00", "changed"));
        yield return Kv(StateStoreHarness.Op(Verb.Lock, "app/leader", session: "deleter"));
        yield return Kv(StateStoreHarness.Op(Verb.Cas, "app/config", "cas", index: 0));
        yield return Register("n1", new Service { Id = "web-1", Name = "frontend" });
        yield return Register("Node-Two", null, new Check { Id = "web-2-check", Status = "passing", ServiceId = "web-2" });
        yield return Register("n1", null, new Check { Id = "serfHealth", Status = "critical" });
        yield return new Command { Session = new SessionOp { Verb = SessionOp.Types.Verb.Destroy, Session = new Session { Id = "deleter" } } };
        yield return Kv(StateStoreHarness.Op(Verb.Lock, "app/leader", session: "ghost"));
        yield return new Command { Deregister = new Deregister { Node = "node-two" } };
        yield return new Command { Reap = new ReapTombstones { UpTo = 30 } };
        yield return Kv(StateStoreHarness.Op(Verb.DeleteTree, "app/"));
        yield return new Command { Config = new ConfigOp { Verb = ConfigOp.Types.Verb.DeleteCas, Entry = new ConfigEntry { Kind = "service-defaults", Name = "web" }, Index = 1 } };
        yield return new Command { Deregister = new Deregister { Node = "n1" } };
    }

    /// <summary>Everything a reader can see (secondary indexes included) is the same, down to the indexes reads answer.</summary>
    internal static void AssertSameState(StateVersion expected, StateVersion actual)
    {
        Assert.Equal(expected.Index, actual.Index);
        Assert.Equal(expected.TableIndexes.OrderBy(e => e.Key, StringComparer.Ordinal), actual.TableIndexes.OrderBy(e => e.Key, StringComparer.Ordinal));
        Assert.Equal(expected.Kvs.PrefixWatch("").Entries, actual.Kvs.PrefixWatch("").Entries);
        Assert.Equal(expected.Tombstones.PrefixWatch("").Entries, actual.Tombstones.PrefixWatch("").Entries);
        Assert.Equal(expected.Nodes.PrefixWatch("").Entries, actual.Nodes.PrefixWatch("").Entries);
        Assert.Equal(expected.Services.PrefixWatch("").Entries, actual.Services.PrefixWatch("").Entries);
        Assert.Equal(expected.ServicesByName.PrefixWatch("").Entries, actual.ServicesByName.PrefixWatch("").Entries);
        Assert.Equal(expected.Checks.PrefixWatch("").Entries, actual.Checks.PrefixWatch("").Entries);
        Assert.Equal(expected.ChecksByService.PrefixWatch("").Entries, actual.ChecksByService.PrefixWatch("").Entries);
        Assert.Equal(expected.Sessions.PrefixWatch("").Entries, actual.Sessions.PrefixWatch("").Entries);
        Assert.Equal(expected.SessionsByNode.PrefixWatch("").Entries, actual.SessionsByNode.PrefixWatch("").Entries);
        Assert.Equal(expected.Config.PrefixWatch("").Entries, actual.Config.PrefixWatch("").Entries);
        foreach (var tree in new[] { expected, actual })
        {
            Assert.Equal(tree.Kvs.PrefixWatch("").Entries.Count, tree.Kvs.Count);
            Assert.Equal(tree.Services.Count, tree.ServicesByName.Count);
            Assert.Equal(tree.Sessions.Count, tree.SessionsByNode.Count);
        }

        foreach (var prefix in new[] { "", "app/", "app/item/", "app/item/1", "top", "none/" })
        {
            var (e, a) = (expected.KvList(prefix), actual.KvList(prefix));
            Assert.Equal(e.Index, a.Index);
            Assert.Equal(e.Result, a.Result);
        }

        foreach (var key in new[] { "app/config", "app/leader", "app/item/03", "missing" })
        {
            Assert.Equal(expected.KvGet(key).Index, actual.KvGet(key).Index);
            Assert.Equal(expected.KvGet(key).Result, actual.KvGet(key).Result);
        }

        foreach (var service in new[] { "web", "db", "frontend" })
        {
            Assert.Equal(expected.ServiceNodes(service).Result, actual.ServiceNodes(service).Result);
            Assert.Equal(expected.ServiceChecks(service).Result, actual.ServiceChecks(service).Result);
            Assert.Equal(expected.HealthService(service).Index, actual.HealthService(service).Index);
            Assert.Equal(
                expected.HealthService(service).Result.SelectMany(i => i.Checks),
                actual.HealthService(service).Result.SelectMany(i => i.Checks));
        }

        foreach (var node in new[] { "n1", "node-two" })
        {
            Assert.Equal(expected.NodeSessions(node).Result, actual.NodeSessions(node).Result);
            Assert.Equal(expected.NodeChecks(node).Result, actual.NodeChecks(node).Result);
        }

        Assert.Equal(expected.ServiceNames().Result.Keys, actual.ServiceNames().Result.Keys);
        Assert.Equal(expected.ConfigList("service-defaults").Result, actual.ConfigList("service-defaults").Result);
        Assert.Equal(expected.SessionList().Index, actual.SessionList().Index);
    }
}
