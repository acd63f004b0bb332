using Cluster.Server.State;

namespace Cluster.Tests.Server;

public sealed class StateStoreKvTests
{
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

    internal static StateStoreHarness WithSessions()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        Assert.True(h.CreateSession("s1", "n1").Ok);
        Assert.True(h.CreateSession("s2", "n1").Ok);
        return h;
    }
}
