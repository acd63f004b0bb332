using Cluster.Server.State;
using Cluster.Contracts.State;
using Verb = Cluster.Contracts.State.ConfigOp.Types.Verb;

namespace Cluster.Tests.Server;

public sealed class StateStoreConfigTests
{
    private const string Defaults = "service-defaults";

    [Fact]
    public void Upsert_creates_then_updates_keeping_the_create_index()
    {
        var h = new StateStoreHarness();
        Assert.True(h.Config(Verb.Upsert, Defaults, "web", """{"Protocol":"http"}""").Ok);
        Assert.True(h.Config(Verb.Upsert, Defaults, "web", """{"Protocol":"grpc"}""").Ok);
        var entry = h.State.ConfigGet(Defaults, "web").Result!;
        Assert.Equal("""{"Protocol":"grpc"}""", entry.Json);
        Assert.Equal(1UL, entry.CreateIndex);
        Assert.Equal(2UL, entry.ModifyIndex);
        Assert.Equal(2UL, h.State.TableIndex(Tables.Config));
        Assert.Equal(2UL, h.State.ConfigGet(Defaults, "web").Index);
    }

    [Fact]
    public void Cas_with_index_zero_only_creates_and_otherwise_needs_the_current_index()
    {
        var h = new StateStoreHarness();
        Assert.True(h.Config(Verb.Cas, Defaults, "web", "{\"v\":1}", index: 0).Ok);
        Assert.False(h.Config(Verb.Cas, Defaults, "web", "{\"v\":2}", index: 0).Ok);
        Assert.False(h.Config(Verb.Cas, Defaults, "web", "{\"v\":2}", index: 9).Ok);
        Assert.False(h.Config(Verb.Cas, Defaults, "api", "{\"v\":2}", index: 1).Ok);
        Assert.Equal("{\"v\":1}", h.State.ConfigGet(Defaults, "web").Result!.Json);
        Assert.Null(h.State.ConfigGet(Defaults, "api").Result);
        Assert.Equal(1UL, h.State.TableIndex(Tables.Config));

        Assert.True(h.Config(Verb.Cas, Defaults, "web", "{\"v\":3}", index: 1).Ok);
        Assert.Equal(5UL, h.State.ConfigGet(Defaults, "web").Result!.ModifyIndex);
    }

    [Fact]
    public void Delete_removes_and_delete_cas_needs_the_current_index()
    {
        var h = new StateStoreHarness();
        h.Config(Verb.Upsert, Defaults, "web");
        h.Config(Verb.Upsert, Defaults, "api");
        Assert.False(h.Config(Verb.DeleteCas, Defaults, "web", index: 7).Ok);
        Assert.False(h.Config(Verb.DeleteCas, Defaults, "missing", index: 0).Ok);
        Assert.NotNull(h.State.ConfigGet(Defaults, "web").Result);
        Assert.True(h.Config(Verb.DeleteCas, Defaults, "web", index: 1).Ok);
        Assert.Null(h.State.ConfigGet(Defaults, "web").Result);
        Assert.True(h.Config(Verb.Delete, Defaults, "api").Ok);
        Assert.True(h.Config(Verb.Delete, Defaults, "api").Ok); // deleting what is not there is fine
        Assert.Empty(h.State.ConfigList(Defaults).Result);
        Assert.Equal(6UL, h.State.TableIndex(Tables.Config));
    }

    [Fact]
    public void List_returns_one_kind_and_watches_it()
    {
        var h = new StateStoreHarness();
        h.Config(Verb.Upsert, Defaults, "web");
        h.Config(Verb.Upsert, Defaults, "api");
        h.Config(Verb.Upsert, "proxy-defaults", "global");
        var list = h.State.ConfigList(Defaults);
        Assert.Equal(["api", "web"], list.Result.Select(e => e.Name));
        var web = h.State.ConfigGet(Defaults, "web").Watches;
        h.Config(Verb.Upsert, "proxy-defaults", "global", "{\"x\":1}");
        h.Config(Verb.Upsert, Defaults, "api", "{\"x\":1}");
        Assert.All(list.Watches, w => Assert.True(w.IsCompleted));
        Assert.All(web, w => Assert.False(w.IsCompleted));
    }

    [Fact]
    public void Config_writes_publish_their_key_and_failures_publish_nothing()
    {
        var h = new StateStoreHarness();
        var batch = h.Store.Events.Latest;
        h.Config(Verb.Upsert, Defaults, "web");
        var published = Assert.IsType<EventBatch>(StateStoreHarness.NextBatch(batch));
        Assert.Equal([new StateEvent(Tables.Config, StateVersion.Key(Defaults, "web"), 1)], published.Events);
        h.Config(Verb.Cas, Defaults, "web", index: 0);
        h.Config(Verb.Delete, Defaults, "nope");
        Assert.NotEmpty(h.Apply(new Command { Config = new ConfigOp { Verb = Verb.Upsert } }).Refused);
        Assert.Null(StateStoreHarness.NextBatch(published));
    }
}
