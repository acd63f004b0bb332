using Cluster.Server.State;
using Cluster.Contracts.State;
using Google.Protobuf;
using Verb = Cluster.Contracts.State.KvOp.Types.Verb;

namespace Cluster.Tests.Server;

public sealed class StateStoreKvTests
{
    [Fact]
    public void Set_creates_then_updates_keeping_the_create_index()
    {
        var h = new StateStoreHarness();
        Assert.True(h.Set("a", "one", flags: 7).Ok);
        var created = h.Get("a");
        Assert.Equal("one", created.Value.ToStringUtf8());
        Assert.Equal(7UL, created.Flags);
        Assert.Equal(1UL, created.CreateIndex);
        Assert.Equal(1UL, created.ModifyIndex);
        Assert.Equal(0UL, created.LockIndex);

        h.Skip();
        Assert.True(h.Set("a", "two").Ok);
        var updated = h.Get("a");
        Assert.Equal("two", updated.Value.ToStringUtf8());
        Assert.Equal(0UL, updated.Flags);
        Assert.Equal(1UL, updated.CreateIndex);
        Assert.Equal(3UL, updated.ModifyIndex);
        Assert.Equal(3UL, h.State.TableIndex(Tables.Kvs));
        Assert.Equal(3UL, h.State.KvGet("a").Index);
        Assert.Equal(3UL, h.State.Index);
    }

    [Fact]
    public void A_read_of_nothing_answers_a_non_zero_index()
    {
        var h = new StateStoreHarness();
        Assert.Equal(1UL, h.State.KvGet("missing").Index);
        Assert.Equal(1UL, h.State.KvList("").Index);
        Assert.Empty(h.State.KvList("").Result);
        Assert.Null(h.State.KvGet("missing").Result);
    }

    [Fact]
    public void Cas_with_index_zero_only_creates()
    {
        var h = new StateStoreHarness();
        Assert.True(h.Cas("a", 0, "first").Ok);
        Assert.False(h.Cas("a", 0, "second").Ok);
        Assert.Equal("first", h.Get("a").Value.ToStringUtf8());
        Assert.Equal(1UL, h.Get("a").ModifyIndex);
    }

    [Fact]
    public void Cas_succeeds_only_at_the_current_modify_index()
    {
        var h = new StateStoreHarness();
        h.Set("a", "one");
        Assert.False(h.Cas("a", 5, "stale").Ok);
        Assert.False(h.Cas("missing", 1, "x").Ok); // a non-zero index on a missing key never matches
        Assert.Null(h.State.KvGet("missing").Result);
        Assert.True(h.Cas("a", 1, "two").Ok);
        Assert.Equal("two", h.Get("a").Value.ToStringUtf8());
        Assert.Equal(4UL, h.Get("a").ModifyIndex);
        Assert.False(h.Cas("a", 1, "three").Ok);
    }

    [Fact]
    public void A_failed_cas_changes_nothing_but_the_index_publishes_nothing_and_fires_nothing()
    {
        var h = new StateStoreHarness();
        h.Set("a", "one");
        var before = StateStoreHarness.WithoutIndex(h.Store);
        var watch = h.State.KvGet("a").Watches;
        var list = h.State.KvList("").Watches;
        var batch = h.Store.Events.Latest;

        Assert.False(h.Cas("a", 9, "two").Ok);
        Assert.False(h.DeleteCas("a", 9).Ok);
        Assert.False(h.Cas("a", 0, "two").Ok);

        Assert.Equal(before, StateStoreHarness.WithoutIndex(h.Store));
        Assert.Equal(4UL, h.State.Index);
        Assert.Equal(1UL, h.State.TableIndex(Tables.Kvs));
        Assert.All(watch.Concat(list), w => Assert.False(w.IsCompleted));
        Assert.Null(StateStoreHarness.NextBatch(batch));
    }

    [Fact]
    public void Delete_removes_the_key_and_leaves_a_tombstone_so_the_prefix_index_does_not_go_back()
    {
        var h = new StateStoreHarness();
        h.Set("app/a");
        h.Set("app/b");
        h.Set("other");
        Assert.Equal(2UL, h.State.KvList("app/").Index);

        Assert.True(h.Delete("app/b").Ok);
        Assert.Null(h.State.KvGet("app/b").Result);
        Assert.Equal(4UL, h.State.KvList("app/").Index);
        Assert.Equal(4UL, h.State.KvGet("app/b").Index);
        Assert.Equal(4UL, h.State.TableIndex(Tables.Kvs));
        Assert.Equal(4UL, h.State.TableIndex(Tables.Tombstones));
        Assert.True(h.State.Tombstones.TryGet("app/b", out var at));
        Assert.Equal(4UL, at);
        Assert.Equal(["app/a"], h.State.KvList("app/").Result.Select(e => e.Key));
    }

    [Fact]
    public void Deleting_a_missing_key_succeeds_and_leaves_no_tombstone()
    {
        var h = new StateStoreHarness();
        h.Set("a");
        var batch = h.Store.Events.Latest;
        Assert.True(h.Delete("b").Ok);
        Assert.False(h.State.Tombstones.TryGet("b", out _));
        Assert.Equal(1UL, h.State.TableIndex(Tables.Kvs));
        Assert.Null(StateStoreHarness.NextBatch(batch));
    }

    [Fact]
    public void Delete_cas_deletes_only_at_the_current_index_and_a_missing_key_counts_as_deleted()
    {
        var h = new StateStoreHarness();
        h.Set("a");
        Assert.False(h.DeleteCas("a", 7).Ok);
        Assert.NotNull(h.State.KvGet("a").Result);
        Assert.True(h.DeleteCas("a", 1).Ok);
        Assert.Null(h.State.KvGet("a").Result);
        Assert.True(h.DeleteCas("a", 1).Ok);
    }

    [Fact]
    public void Delete_tree_deletes_exactly_the_keys_under_the_prefix()
    {
        var h = new StateStoreHarness();
        foreach (var key in new[] { "app", "app/", "app/a", "app/a/b", "apple", "ap", "b" })
        {
            h.Set(key);
        }

        var batch = h.Store.Events.Latest;
        Assert.True(h.DeleteTree("app/").Ok);
        Assert.Equal(["ap", "app", "apple", "b"], h.State.KvList("").Result.Select(e => e.Key));
        Assert.Equal(8UL, h.State.KvList("app/").Index);
        Assert.Equal(8UL, h.State.KvList("app").Index);
        Assert.Equal(7UL, h.State.KvList("b").Index);
        var published = Assert.IsType<EventBatch>(StateStoreHarness.NextBatch(batch));
        Assert.Equal(8UL, published.Index);
        Assert.Equal([new StateEvent(Tables.Kvs, "app/", 8), new StateEvent(Tables.Kvs, "app/a", 8), new StateEvent(Tables.Kvs, "app/a/b", 8)], published.Events);

        Assert.True(h.DeleteTree("").Ok);
        Assert.Empty(h.State.KvList("").Result);
        Assert.Equal(9UL, h.State.KvList("").Index);
        Assert.Equal(9UL, h.State.KvGet("b").Index);
    }

    [Fact]
    public void Reaping_removes_tombstones_up_to_the_index_only()
    {
        var h = new StateStoreHarness();
        h.Set("a/1");
        h.Set("a/2");
        h.Set("a/3");
        h.Delete("a/2"); // 4
        h.Delete("a/3"); // 5
        Assert.Equal(5UL, h.State.KvList("a/").Index);
        var batch = h.Store.Events.Latest;

        Assert.True(h.Reap(4).Ok);
        Assert.False(h.State.Tombstones.TryGet("a/2", out _));
        Assert.True(h.State.Tombstones.TryGet("a/3", out _));
        Assert.Equal(5UL, h.State.KvList("a/").Index);
        Assert.Null(StateStoreHarness.NextBatch(batch)); // tombstones are no topic of the feed

        h.Reap(5);
        Assert.Equal(0, h.State.Tombstones.Count);
        Assert.Equal(1UL, h.State.KvList("a/").Index); // what is left is a/1, written at 1
    }

    [Fact]
    public void Listing_everything_answers_the_tables_index_so_reaping_does_not_take_it_back()
    {
        // As Consul's KVSList for an empty prefix; it answered the newest entry's index, which went
        // back from the delete's index to 1 once the tombstone was reaped.
        var h = new StateStoreHarness();
        h.Set("a");
        h.Set("b");
        h.Delete("b");
        Assert.Equal(3UL, h.State.KvList("").Index);
        h.Reap(3);
        Assert.True(h.State.KvList("").Index >= 3);
        Assert.Equal(h.State.MaxIndex(Tables.Kvs, Tables.Tombstones), h.State.KvList("").Index);
    }

    [Fact]
    public void An_empty_key_is_refused_except_for_trees()
    {
        var h = new StateStoreHarness();
        var result = h.Set("");
        Assert.False(result.Ok);
        Assert.NotEmpty(result.Refused);
        Assert.Equal(0, h.State.Kvs.Count);
        Assert.True(h.DeleteTree("").Ok);
    }

    [Fact]
    public void Lock_takes_a_free_key_for_a_session_and_counts_acquisitions()
    {
        var h = WithSessions();
        Assert.True(h.Lock("k", "s1", "held").Ok);
        var held = h.Get("k");
        Assert.Equal("s1", held.Session);
        Assert.Equal(1UL, held.LockIndex);
        Assert.Equal("held", held.Value.ToStringUtf8());

        Assert.True(h.Lock("k", "s1", "again").Ok); // already held: same lock
        Assert.Equal(1UL, h.Get("k").LockIndex);
        Assert.Equal("again", h.Get("k").Value.ToStringUtf8());

        Assert.False(h.Lock("k", "s2").Ok);
        Assert.Equal("s1", h.Get("k").Session);

        Assert.True(h.Set("k", "plain").Ok); // a plain set keeps the holder
        Assert.Equal("s1", h.Get("k").Session);
        Assert.Equal(1UL, h.Get("k").LockIndex);

        Assert.False(h.Unlock("k", "s2").Ok);
        Assert.Equal("s1", h.Get("k").Session);
        Assert.True(h.Unlock("k", "s1", "released").Ok);
        var released = h.Get("k");
        Assert.Equal("", released.Session);
        Assert.Equal(1UL, released.LockIndex);
        Assert.Equal("released", released.Value.ToStringUtf8());

        Assert.True(h.Lock("k", "s2").Ok);
        Assert.Equal(2UL, h.Get("k").LockIndex);
        Assert.Equal(held.CreateIndex, h.Get("k").CreateIndex);
    }

    [Fact]
    public void Lock_needs_an_existing_session()
    {
        var h = WithSessions();
        var before = StateStoreHarness.WithoutIndex(h.Store);
        var missing = h.Lock("k", "nope");
        Assert.False(missing.Ok);
        Assert.Contains("nope", missing.Refused, StringComparison.Ordinal);
        Assert.NotEmpty(h.Lock("k", "").Refused);
        Assert.Equal(before, StateStoreHarness.WithoutIndex(h.Store));
    }

    [Fact]
    public void Unlock_of_a_missing_key_fails()
    {
        var h = WithSessions();
        Assert.False(h.Unlock("k", "s1").Ok);
        Assert.Null(h.State.KvGet("k").Result);
    }

    [Fact]
    public void Unlock_needs_a_session()
    {
        // Consul's kvsUnlockTxn: "missing session". Without the check an unlock without a session
        // on an unheld key passed as the holder ("" == "") and wrote like a plain set.
        var h = WithSessions();
        h.Set("k", "before");
        var before = StateStoreHarness.WithoutIndex(h.Store);
        var result = h.Unlock("k", "", "after");
        Assert.False(result.Ok);
        Assert.Equal(before, StateStoreHarness.WithoutIndex(h.Store));
        var txn = h.Txn(StateStoreHarness.Op(Verb.Unlock, "k", "after"));
        Assert.Equal(0, Assert.Single(txn.Errors).OpIndex);
        Assert.Equal("before", h.Get("k").Value.ToStringUtf8());
    }

    [Fact]
    public void A_key_watch_fires_for_that_key_only()
    {
        var h = new StateStoreHarness();
        foreach (var key in new[] { "a", "ab", "a/b", "b" })
        {
            h.Set(key);
        }

        var watch = h.State.KvGet("a").Watches;
        h.Set("ab");
        h.Set("a/b");
        h.Set("a/c");
        h.Set("aa");
        h.Set("");
        h.Delete("b");
        h.Delete("ab");
        h.DeleteTree("a/");
        h.Cas("a", 999, "stale");
        Assert.All(watch, w => Assert.False(w.IsCompleted));

        h.Set("a", "changed");
        Assert.All(watch, w => Assert.True(w.IsCompleted));

        watch = h.State.KvGet("a").Watches;
        h.Delete("a");
        Assert.All(watch, w => Assert.True(w.IsCompleted));

        watch = h.State.KvGet("a").Watches;
        h.Set("a");
        Assert.Contains(watch, w => w.IsCompleted);
    }

    [Fact]
    public void A_prefix_watch_fires_for_writes_under_the_prefix_only()
    {
        var h = new StateStoreHarness();
        foreach (var key in new[] { "app/a", "app/b", "apple", "z" })
        {
            h.Set(key);
        }

        h.Delete("z"); // a tombstone outside the prefix
        var list = h.State.KvList("app/").Watches;
        h.Set("apple", "2");
        h.Set("b");
        h.Delete("b");
        h.Set("z");
        h.Delete("z");
        h.Delete("app/missing");
        h.Reap(h.Index);
        Assert.All(list, w => Assert.False(w.IsCompleted));

        h.Set("app/c");
        Assert.Contains(list, w => w.IsCompleted);

        list = h.State.KvList("app/").Watches;
        h.Delete("app/a");
        Assert.Contains(list, w => w.IsCompleted);

        list = h.State.KvList("app/").Watches;
        h.Set("app/b", "2");
        Assert.Contains(list, w => w.IsCompleted);
    }

    [Fact]
    public void A_prefix_watch_does_not_fire_for_a_delete_outside_it_when_nothing_under_it_was_ever_deleted()
    {
        // KvList also watched the tombstones under the prefix: with none there, that watch was the
        // tombstone tree's nearest node (often the root), so any delete anywhere woke every list.
        var h = new StateStoreHarness();
        h.Set("app/a");
        h.Set("other");
        var list = h.State.KvList("app/").Watches;
        h.Delete("other");
        Assert.All(list, w => Assert.False(w.IsCompleted));
        h.Delete("app/a");
        Assert.Contains(list, w => w.IsCompleted);
    }

    [Fact]
    public void A_prefix_watch_does_not_fire_when_a_sibling_delete_compacts_the_tree_above_it()
    {
        // Deleting app/a leaves app/ with one child, which the tree merges into one edge; the
        // merged node fired the child's watch though nothing under app/b/ changed.
        var h = new StateStoreHarness();
        h.Set("app/a");
        h.Set("app/b/1");
        h.Set("app/b/2");
        var list = h.State.KvList("app/b/").Watches;
        var key = h.State.KvGet("app/b/1").Watches;
        h.Delete("app/a");
        Assert.All(list.Concat(key), w => Assert.False(w.IsCompleted));
        Assert.Equal(["app/b/1", "app/b/2"], h.State.KvList("app/b/").Result.Select(e => e.Key));

        // The merged node's watch is still the subtree's.
        h.Set("app/b/3");
        Assert.All(list, w => Assert.True(w.IsCompleted));
        Assert.All(key, w => Assert.False(w.IsCompleted));
    }

    [Fact]
    public void Stores_share_no_watches()
    {
        // Every store began from one static empty version, so the watches of its still-empty tables
        // were shared: a write in one store woke another's readers, and once fired a read of an
        // empty table in any newer store came with a watch already complete (a blocking query spins).
        var first = new StateStoreHarness();
        var second = new StateStoreHarness();
        var watches = second.State.KvGet("x").Watches
            .Concat(second.State.KvList("").Watches)
            .Concat(second.State.NodeList().Watches)
            .Concat(second.State.SessionList().Watches)
            .ToList();
        first.Set("x");
        first.Delete("x");
        first.RegisterNode("n1");
        first.CreateSession("s", "n1");
        first.Store.Restore(StateStoreHarness.SnapshotBytes(first.Store));
        Assert.All(watches, w => Assert.False(w.IsCompleted));
        Assert.All(new StateStore().Current.KvGet("x").Watches, w => Assert.False(w.IsCompleted));
    }

    [Fact]
    public void Each_committed_write_publishes_one_batch_of_its_events()
    {
        var h = WithSessions();
        var batch = h.Store.Events.Latest;
        h.Set("a");
        var first = Assert.IsType<EventBatch>(StateStoreHarness.NextBatch(batch));
        Assert.Equal(h.Index, first.Index);
        Assert.Equal([new StateEvent(Tables.Kvs, "a", h.Index)], first.Events);

        h.Lock("a", "s1");
        var second = Assert.IsType<EventBatch>(StateStoreHarness.NextBatch(first));
        Assert.Equal([new StateEvent(Tables.Kvs, "a", h.Index)], second.Events);

        h.Lock("a", "s2"); // held by s1: not applied
        h.Lock("a", "ghost"); // refused
        h.Skip();
        Assert.Null(StateStoreHarness.NextBatch(second));

        h.Delete("a");
        var third = Assert.IsType<EventBatch>(StateStoreHarness.NextBatch(second));
        Assert.Equal([new StateEvent(Tables.Kvs, "a", h.Index)], third.Events);
        Assert.Same(third, h.Store.Events.Latest);
    }

    [Fact]
    public void Applied_completes_once_the_next_command_is_applied()
    {
        var h = new StateStoreHarness();
        var applied = h.Store.Applied;
        Assert.False(applied.IsCompleted);
        h.Cas("a", 5); // even a command that fails is applied at its index
        Assert.True(applied.IsCompleted);
        Assert.False(h.Store.Applied.IsCompleted);
        Assert.Equal(1UL, h.State.Index);
    }

    [Fact]
    public void Old_versions_are_unaffected_by_later_writes()
    {
        var h = new StateStoreHarness();
        h.Set("a", "1");
        var old = h.State;
        h.Set("a", "2");
        h.Set("b", "2");
        h.Delete("a");
        Assert.Equal("1", old.KvGet("a").Result!.Value.ToStringUtf8());
        Assert.Equal(["a"], old.KvList("").Result.Select(e => e.Key));
        Assert.Equal(1UL, old.Index);
    }

    [Fact]
    public void A_transaction_applies_all_its_operations_at_one_index()
    {
        var h = new StateStoreHarness();
        h.Set("c", "old");
        var batch = h.Store.Events.Latest;
        var result = h.Txn(
            StateStoreHarness.Op(Verb.Set, "a", "1"),
            StateStoreHarness.Op(Verb.Cas, "b", "2", index: 0),
            StateStoreHarness.Op(Verb.Get, "a"),
            StateStoreHarness.Op(Verb.Delete, "c"),
            StateStoreHarness.Op(Verb.CheckNotExists, "c"),
            StateStoreHarness.Op(Verb.GetTree, ""));
        Assert.True(result.Ok);
        Assert.Empty(result.Errors);
        Assert.Equal(2UL, h.Get("a").ModifyIndex);
        Assert.Equal(2UL, h.Get("b").ModifyIndex);
        Assert.Null(h.State.KvGet("c").Result);

        // Writes answer with metadata only, reads with the value; a read sees the transaction's own writes.
        Assert.Equal(["a", "b", "a", "a", "b"], result.Results.Select(e => e.Key));
        Assert.Equal(["", "", "1", "1", "2"], result.Results.Select(e => e.Value.ToStringUtf8()));
        Assert.All(result.Results, e => Assert.Equal(2UL, e.ModifyIndex));

        var published = Assert.IsType<EventBatch>(StateStoreHarness.NextBatch(batch));
        Assert.Equal(2UL, published.Index);
        Assert.Equal(["a", "b", "c"], published.Events.Select(e => e.Key));
        Assert.Null(StateStoreHarness.NextBatch(published));
    }

    [Fact]
    public void A_transaction_with_an_error_applies_nothing_and_names_every_failing_operation()
    {
        var h = WithSessions();
        h.Set("a", "1");
        var before = StateStoreHarness.WithoutIndex(h.Store);
        var watch = h.State.KvList("").Watches;
        var batch = h.Store.Events.Latest;
        var result = h.Txn(
            StateStoreHarness.Op(Verb.Set, "b", "2"),
            StateStoreHarness.Op(Verb.Cas, "a", "x", index: 99),
            StateStoreHarness.Op(Verb.Delete, "a"),
            StateStoreHarness.Op(Verb.Lock, "c", session: "ghost"),
            StateStoreHarness.Op(Verb.Set, ""),
            StateStoreHarness.Op(Verb.Get, "nope"),
            StateStoreHarness.Op(Verb.CheckIndex, "b", index: 1),
            StateStoreHarness.Op(Verb.CheckSession, "b", session: "s1"));
        Assert.False(result.Ok);
        Assert.Empty(result.Results);
        Assert.Equal([1, 3, 4, 5, 6, 7], result.Errors.Select(e => e.OpIndex));
        Assert.All(result.Errors, e => Assert.NotEmpty(e.What));
        Assert.Contains("ghost", result.Errors[1].What, StringComparison.Ordinal);
        Assert.Empty(result.Refused);

        Assert.Equal(before, StateStoreHarness.WithoutIndex(h.Store));
        Assert.Equal(h.Index, h.State.Index);
        Assert.All(watch, w => Assert.False(w.IsCompleted));
        Assert.Null(StateStoreHarness.NextBatch(batch));
    }

    [Fact]
    public void Transaction_checks_see_earlier_operations_of_the_same_transaction()
    {
        var h = WithSessions();
        var result = h.Txn(
            StateStoreHarness.Op(Verb.CheckNotExists, "k"),
            StateStoreHarness.Op(Verb.Lock, "k", "v", session: "s1"),
            StateStoreHarness.Op(Verb.CheckSession, "k", session: "s1"),
            StateStoreHarness.Op(Verb.CheckIndex, "k", index: h.Index + 1),
            StateStoreHarness.Op(Verb.Unlock, "k", "w", session: "s1"),
            StateStoreHarness.Op(Verb.CheckSession, "k", session: ""));
        Assert.True(result.Ok, string.Join("; ", result.Errors));
        Assert.Equal("", h.Get("k").Session);
        Assert.Equal(1UL, h.Get("k").LockIndex);
        Assert.Equal("w", h.Get("k").Value.ToStringUtf8());
    }

    [Fact]
    public void Transaction_checks_answer_with_metadata_only_as_in_Consul()
    {
        // Consul's txnKVS keeps the value only for a get (and get-tree); check-index and
        // check-session answered with the value here.
        var h = WithSessions();
        h.Lock("k", "s1", "secret");
        var result = h.Txn(
            StateStoreHarness.Op(Verb.CheckIndex, "k", index: h.Index),
            StateStoreHarness.Op(Verb.CheckSession, "k", session: "s1"),
            StateStoreHarness.Op(Verb.Get, "k"));
        Assert.True(result.Ok);
        Assert.Equal(["", "", "secret"], result.Results.Select(e => e.Value.ToStringUtf8()));
        Assert.All(result.Results, e => Assert.Equal(h.Index - 1, e.ModifyIndex));
        Assert.Equal("secret", h.Get("k").Value.ToStringUtf8());
    }

    [Fact]
    public void An_empty_transaction_succeeds_and_changes_nothing()
    {
        var h = new StateStoreHarness();
        h.Set("a");
        var before = StateStoreHarness.WithoutIndex(h.Store);
        Assert.True(h.Txn().Ok);
        Assert.Equal(before, StateStoreHarness.WithoutIndex(h.Store));
    }

    [Fact]
    public void Values_are_stored_as_given()
    {
        var h = new StateStoreHarness();
        var bytes = ByteString.CopyFrom([0, 255, 1, 254]);
        h.Kv(new KvOp { Verb = Verb.Set, Key = "bin\0ary/ключ", Value = bytes });
        Assert.Equal(bytes, h.Get("bin\0ary/ключ").Value);
        Assert.Single(h.State.KvList("bin\0").Result);
    }

    internal static StateStoreHarness WithSessions()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        Assert.True(h.CreateSession("s1", "n1").Ok);
        Assert.True(h.CreateSession("s2", "n1").Ok);
        return h;
    }
}
