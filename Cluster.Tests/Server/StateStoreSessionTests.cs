using Cluster.Server.State;
using Cluster.Contracts.State;
using Verb = Cluster.Contracts.State.KvOp.Types.Verb;

namespace Cluster.Tests.Server;

public sealed class StateStoreSessionTests
{
    [Fact]
    public void Create_needs_the_node()
    {
        var h = new StateStoreHarness();
        var result = h.CreateSession("s1", "n1");
        Assert.False(result.Ok);
        Assert.Contains("n1", result.Refused, StringComparison.Ordinal);
        Assert.Empty(h.State.SessionList().Result);
        Assert.Equal(1UL, h.State.Index);
    }

    [Fact]
    public void Create_needs_its_checks_registered_and_not_critical()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.RegisterCheck("n1", "ok", "passing");
        h.RegisterCheck("n1", "warn", "warning");
        h.RegisterCheck("n1", "bad", "critical");
        var before = StateStoreHarness.WithoutIndex(h.Store);

        Assert.Contains("missing", h.CreateSession("s1", "n1", nodeChecks: "missing").Refused, StringComparison.Ordinal);
        Assert.Contains("critical", h.CreateSession("s1", "n1", nodeChecks: ["ok", "bad"]).Refused, StringComparison.Ordinal);
        Assert.Equal(before, StateStoreHarness.WithoutIndex(h.Store));

        Assert.True(h.CreateSession("s1", "n1", nodeChecks: ["ok", "warn"]).Ok);
        var session = h.State.SessionGet("s1").Result!;
        Assert.Equal(["ok", "warn"], session.NodeChecks);
        Assert.Equal(h.Index, session.CreateIndex);
        Assert.Equal(h.Index, session.ModifyIndex);
        Assert.Equal(h.Index, h.State.TableIndex(Tables.Sessions));
    }

    [Fact]
    public void Create_checks_service_checks_on_the_session_node()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.RegisterNode("n2");
        h.RegisterService("n2", "web", "web");
        h.RegisterCheck("n2", "web-check", "passing", "web");
        var session = new Session { Id = "s1", Node = "n1", Behavior = "release" };
        session.ServiceChecks.Add(new ServiceCheckRef { Id = "web-check" });
        var command = new Command { Session = new SessionOp { Verb = SessionOp.Types.Verb.Create, Session = session } };
        Assert.NotEmpty(h.Apply(command.Clone()).Refused); // the check is on n2

        command.Session.Session.Node = "n2";
        Assert.True(h.Apply(command).Ok);
        h.RegisterCheck("n2", "web-check", "critical", "web");
        Assert.Null(h.State.SessionGet("s1").Result);
    }

    [Fact]
    public void Create_refuses_a_bad_id_behaviour_or_a_duplicate()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        Assert.NotEmpty(h.CreateSession("", "n1").Refused);
        Assert.NotEmpty(h.CreateSession("s1", "n1", behavior: "explode").Refused);
        Assert.True(h.CreateSession("s1", "n1").Ok);
        var duplicate = h.CreateSession("s1", "n1", behavior: "delete");
        Assert.Contains("already exists", duplicate.Refused, StringComparison.Ordinal);
        Assert.Equal("release", h.State.SessionGet("s1").Result!.Behavior);
    }

    [Fact]
    public void Create_without_a_session_is_refused_not_thrown()
    {
        // A command's fields come off the wire: a create with no session threw ArgumentNullException
        // out of the FSM instead of being refused.
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        var result = h.Apply(new Command { Session = new SessionOp { Verb = SessionOp.Types.Verb.Create } });
        Assert.False(result.Ok);
        Assert.NotEmpty(result.Refused);
        Assert.Equal(2UL, h.State.Index);
    }

    [Fact]
    public void An_unknown_session_verb_is_refused()
    {
        // Anything but CREATE used to be taken for DESTROY.
        var h = StateStoreKvTests.WithSessions();
        var result = h.Apply(new Command { Session = new SessionOp { Verb = (SessionOp.Types.Verb)7, Session = new Session { Id = "s1" } } });
        Assert.False(result.Ok);
        Assert.NotEmpty(result.Refused);
        Assert.NotNull(h.State.SessionGet("s1").Result);
    }

    [Fact]
    public void The_session_takes_the_node_name_as_registered_and_is_found_by_node_in_any_case()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("Node-1");
        Assert.True(h.CreateSession("s1", "NODE-1").Ok);
        Assert.Equal("Node-1", h.State.SessionGet("s1").Result!.Node);
        Assert.Equal(["s1"], h.State.NodeSessions("node-1").Result.Select(s => s.Id));
        h.Deregister("node-1");
        Assert.Empty(h.State.SessionList().Result);
    }

    [Fact]
    public void Destroy_with_release_frees_the_locks_and_keeps_the_values()
    {
        var h = StateStoreKvTests.WithSessions();
        h.Lock("a", "s1", "va");
        h.Lock("b", "s1", "vb");
        h.Lock("c", "s2", "vc");
        var watch = h.State.SessionGet("s1").Watches;
        var cWatch = h.State.KvGet("c").Watches;
        var batch = h.Store.Events.Latest;

        Assert.True(h.DestroySession("s1").Ok);
        var at = h.Index;
        foreach (var key in new[] { "a", "b" })
        {
            var entry = h.Get(key);
            Assert.Equal("", entry.Session);
            Assert.Equal(1UL, entry.LockIndex);
            Assert.Equal(at, entry.ModifyIndex);
            Assert.Equal("v" + key, entry.Value.ToStringUtf8());
        }

        Assert.Equal("s2", h.Get("c").Session);
        Assert.Null(h.State.SessionGet("s1").Result);
        Assert.Equal(["s2"], h.State.NodeSessions("n1").Result.Select(s => s.Id));
        Assert.All(watch, w => Assert.True(w.IsCompleted));
        Assert.All(cWatch, w => Assert.False(w.IsCompleted));
        Assert.Equal(at, h.State.TableIndex(Tables.Kvs));
        Assert.Equal(at, h.State.TableIndex(Tables.Sessions));

        var published = Assert.IsType<EventBatch>(StateStoreHarness.NextBatch(batch));
        Assert.Equal(at, published.Index);
        Assert.Equal(
            [new StateEvent(Tables.Kvs, "a", at), new StateEvent(Tables.Kvs, "b", at), new StateEvent(Tables.Sessions, "s1", at)],
            published.Events);

        Assert.True(h.Lock("a", "s2").Ok);
        Assert.Equal(2UL, h.Get("a").LockIndex);
    }

    [Fact]
    public void Destroy_with_delete_deletes_the_locked_keys()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.CreateSession("s1", "n1", behavior: "delete");
        h.Lock("app/a", "s1");
        h.Set("app/b");
        Assert.True(h.DestroySession("s1").Ok);
        Assert.Null(h.State.KvGet("app/a").Result);
        Assert.NotNull(h.State.KvGet("app/b").Result);
        Assert.True(h.State.Tombstones.TryGet("app/a", out var at));
        Assert.Equal(h.Index, at);
        Assert.Equal(h.Index, h.State.KvList("app/").Index);
    }

    [Fact]
    public void Destroying_a_missing_session_changes_nothing()
    {
        var h = StateStoreKvTests.WithSessions();
        var before = StateStoreHarness.WithoutIndex(h.Store);
        var batch = h.Store.Events.Latest;
        Assert.False(h.DestroySession("nope").Ok);
        Assert.False(h.Apply(new Command { Session = new SessionOp { Verb = SessionOp.Types.Verb.Destroy } }).Ok);
        Assert.Equal(before, StateStoreHarness.WithoutIndex(h.Store));
        Assert.Null(StateStoreHarness.NextBatch(batch));
    }

    [Fact]
    public void A_lock_delay_keeps_others_from_the_released_keys_until_it_passes()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.CreateSession("s1", "n1", lockDelayMs: 10_000);
        h.CreateSession("s2", "n1");
        h.Lock("k", "s1");
        h.Lock("other", "s2");
        var start = h.Now;
        h.DestroySession("s1");
        Assert.Equal(start + 10_000, h.State.LockDelays["k"]);
        Assert.False(h.State.LockDelays.ContainsKey("other"));

        h.Now = start + 9_999;
        var refused = h.Lock("k", "s2");
        Assert.False(refused.Ok);
        Assert.Equal("", h.Get("k").Session);
        var txn = h.Txn(StateStoreHarness.Op(Verb.Lock, "k", session: "s2"));
        Assert.Equal(0, Assert.Single(txn.Errors).OpIndex);
        Assert.Contains("lock delay", txn.Errors[0].What, StringComparison.Ordinal);
        Assert.True(h.Set("k", "plain").Ok); // only acquiring waits
        Assert.True(h.Lock("elsewhere", "s2").Ok);

        h.Now = start + 10_000;
        Assert.True(h.Lock("k", "s2").Ok);
        Assert.Equal("s2", h.Get("k").Session);
    }

    [Fact]
    public void A_lock_delay_follows_the_command_clock_not_the_wall_clock()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.CreateSession("s1", "n1", lockDelayMs: 15_000);
        h.CreateSession("s2", "n1");
        h.Lock("k", "s1");
        h.DestroySession("s1");
        var lockAfter = StateStoreHarness.Op(Verb.Lock, "k", session: "s2");
        Assert.False(h.Apply(new Command { Kv = lockAfter, UnixMs = h.Now + 14_000 }).Ok);
        Assert.True(h.Apply(new Command { Kv = lockAfter, UnixMs = h.Now + 16_000 }).Ok);
    }

    [Fact]
    public void A_lock_delay_set_again_after_an_earlier_one_expired_holds()
    {
        // Commit pruned the expired delays of the previous version after merging the new ones,
        // so a new delay on a key whose old delay had expired was dropped at once.
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.CreateSession("s1", "n1", lockDelayMs: 10_000);
        h.CreateSession("s2", "n1", lockDelayMs: 10_000);
        h.CreateSession("s3", "n1");
        var start = h.Now;
        h.Lock("k", "s1");
        h.DestroySession("s1"); // k delayed until start + 10 s

        h.Now = start + 20_000;
        Assert.True(h.Lock("k", "s2").Ok);
        h.DestroySession("s2"); // k delayed again, until start + 30 s
        Assert.Equal(start + 30_000, h.State.LockDelays.GetValueOrDefault("k"));

        h.Now = start + 21_000;
        Assert.False(h.Lock("k", "s3").Ok);
        h.Now = start + 30_000;
        Assert.True(h.Lock("k", "s3").Ok);
    }

    [Fact]
    public void Expired_lock_delays_are_pruned_when_new_ones_are_set()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.CreateSession("s1", "n1", lockDelayMs: 1_000);
        h.CreateSession("s2", "n1", lockDelayMs: 1_000);
        var start = h.Now;
        h.Lock("a", "s1");
        h.Lock("b", "s2");
        h.DestroySession("s1");
        h.Now = start + 5_000;
        h.DestroySession("s2");
        Assert.Equal(["b"], h.State.LockDelays.Keys);
    }

    [Fact]
    public void A_check_going_critical_invalidates_the_sessions_that_use_it()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.RegisterCheck("n1", "c1", "passing");
        h.RegisterCheck("n1", "c2", "passing");
        h.CreateSession("s1", "n1", nodeChecks: "c1");
        h.CreateSession("s2", "n1", nodeChecks: "c2");
        h.CreateSession("s3", "n1");
        h.Lock("k1", "s1");
        h.Lock("k2", "s2");

        h.RegisterCheck("n1", "c1", "warning");
        Assert.Equal(3, h.State.SessionList().Result.Count);

        var batch = h.Store.Events.Latest;
        h.RegisterCheck("n1", "c1", "critical");
        var at = h.Index;
        Assert.Equal(["s2", "s3"], h.State.SessionList().Result.Select(s => s.Id));
        Assert.Equal("", h.Get("k1").Session);
        Assert.Equal("s2", h.Get("k2").Session);
        var published = Assert.IsType<EventBatch>(StateStoreHarness.NextBatch(batch));
        Assert.Equal(
            [new StateEvent(Tables.Checks, StateVersion.Key("n1", "c1"), at), new StateEvent(Tables.Kvs, "k1", at), new StateEvent(Tables.Sessions, "s1", at)],
            published.Events);

        h.Deregister("n1", checkId: "c2");
        Assert.Equal(["s3"], h.State.SessionList().Result.Select(s => s.Id));
        Assert.Equal("", h.Get("k2").Session);
    }

    [Fact]
    public void A_check_that_stays_critical_or_a_refused_registration_invalidates_nothing()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.RegisterCheck("n1", "c1", "passing");
        h.CreateSession("s1", "n1", nodeChecks: "c1");
        var register = new Register { Node = new Node { Name = "n1" }, SkipNodeUpdate = true };
        register.Checks.Add(new Check { Id = "c1", Status = "critical" });
        register.Checks.Add(new Check { Id = "c9", Status = "bogus" });
        Assert.NotEmpty(h.Apply(new Command { Register = register }).Refused);
        Assert.NotNull(h.State.SessionGet("s1").Result);
        Assert.Equal("passing", h.State.NodeChecks("n1").Result.Single().Status);
    }

    [Fact]
    public void Deregistering_the_node_destroys_its_sessions_only()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.RegisterNode("n2");
        h.CreateSession("s1", "n1");
        h.CreateSession("s2", "n2");
        h.Lock("k", "s1");
        var other = h.State.NodeSessions("n2").Watches;
        h.Deregister("n1");
        Assert.Equal(["s2"], h.State.SessionList().Result.Select(s => s.Id));
        Assert.Empty(h.State.NodeSessions("n1").Result);
        Assert.Equal("", h.Get("k").Session);
        Assert.All(other, w => Assert.False(w.IsCompleted));
    }

    [Fact]
    public void Session_reads_watch_what_they_read()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.RegisterNode("n2");
        h.CreateSession("s1", "n1");
        h.CreateSession("s2", "n2");
        var s1 = h.State.SessionGet("s1").Watches;
        var n1 = h.State.NodeSessions("n1").Watches;
        h.CreateSession("s3", "n2");
        h.DestroySession("s2");
        Assert.All(s1.Concat(n1), w => Assert.False(w.IsCompleted));
        h.CreateSession("s4", "n1");
        Assert.All(n1, w => Assert.True(w.IsCompleted));
        Assert.All(s1, w => Assert.False(w.IsCompleted));
        h.DestroySession("s1");
        Assert.All(s1, w => Assert.True(w.IsCompleted));
    }
}
