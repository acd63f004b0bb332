using Cluster.Server.State;
using Cluster.Contracts.State;

namespace Cluster.Tests.Server;

public sealed class StateStoreCatalogTests
{
    [Fact]
    public void Register_creates_the_node_and_an_unchanged_registration_changes_nothing()
    {
        var h = new StateStoreHarness();
        Assert.True(h.RegisterNode("n1", meta: new Dictionary<string, string> { ["rack"] = "r1" }).Ok);
        var node = h.State.NodeGet("n1").Result!;
        Assert.Equal("10.0.0.1", node.Address);
        Assert.Equal("r1", node.Meta["rack"]);
        Assert.Equal(1UL, node.CreateIndex);
        Assert.Equal(1UL, node.ModifyIndex);

        var watch = h.State.NodeGet("n1").Watches.Concat(h.State.NodeList().Watches).ToList();
        var batch = h.Store.Events.Latest;
        Assert.True(h.RegisterNode("n1", meta: new Dictionary<string, string> { ["rack"] = "r1" }).Ok);
        Assert.Equal(1UL, h.State.NodeGet("n1").Result!.ModifyIndex);
        Assert.Equal(1UL, h.State.TableIndex(Tables.Nodes));
        Assert.Equal(1UL, h.State.NodeList().Index);
        Assert.Equal(2UL, h.State.Index);
        Assert.All(watch, w => Assert.False(w.IsCompleted));
        Assert.Null(StateStoreHarness.NextBatch(batch));

        Assert.True(h.RegisterNode("n1", address: "10.0.0.2").Ok);
        var changed = h.State.NodeGet("n1").Result!;
        Assert.Equal("10.0.0.2", changed.Address);
        Assert.Empty(changed.Meta);
        Assert.Equal(1UL, changed.CreateIndex);
        Assert.Equal(3UL, changed.ModifyIndex);
        Assert.Equal(3UL, h.State.TableIndex(Tables.Nodes));
        Assert.All(watch, w => Assert.True(w.IsCompleted));
        Assert.Equal([new StateEvent(Tables.Nodes, "n1", 3)], StateStoreHarness.NextBatch(batch)!.Events);
    }

    [Fact]
    public void Register_keeps_the_datacenter_when_none_is_sent()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.Apply(new Command { Register = new Register { Node = new Node { Name = "n1", Address = "10.0.0.1" } } });
        Assert.Equal("dc1", h.State.NodeGet("n1").Result!.Datacenter);
        Assert.Equal(1UL, h.State.NodeGet("n1").Result!.ModifyIndex);
    }

    [Fact]
    public void Register_refuses_a_node_without_a_name_or_an_address()
    {
        var h = new StateStoreHarness();
        Assert.NotEmpty(h.Apply(new Command { Register = new Register() }).Refused);
        Assert.NotEmpty(h.RegisterNode("").Refused);
        Assert.NotEmpty(h.RegisterNode("n1", address: "").Refused);
        Assert.NotEmpty(h.RegisterService("n1", "web", "web").Refused); // skip_node_update needs a known node
        Assert.Empty(h.State.NodeList().Result);
        Assert.Equal(0UL, h.State.TableIndex(Tables.Nodes));
    }

    [Fact]
    public void Node_names_match_case_insensitively()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("Node-A");
        Assert.Equal("Node-A", h.State.NodeGet("node-a").Result!.Name);
        h.RegisterService("NODE-A", "web", "web");
        var (node, services) = h.State.NodeServices("node-A").Result!.Value;
        Assert.Equal("Node-A", node.Name);
        Assert.Equal("Node-A", Assert.Single(services).Node);
    }

    [Fact]
    public void Services_register_update_and_are_found_by_name_and_tags()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.RegisterNode("n2", address: "10.0.0.2");
        h.RegisterService("n1", "web-1", "web", "v1", "primary");
        h.RegisterService("n2", "web-2", "Web", "v1");
        h.RegisterService("n2", "db", "db");

        Assert.Equal(["web-1", "web-2"], h.State.ServiceNodes("web").Result.Select(s => s.Service.Id));
        Assert.Equal(["web-1", "web-2"], h.State.ServiceNodes("WEB", ["v1"]).Result.Select(s => s.Service.Id));
        Assert.Equal(["web-1"], h.State.ServiceNodes("web", ["v1", "primary"]).Result.Select(s => s.Service.Id));
        Assert.Empty(h.State.ServiceNodes("web", ["v2"]).Result);
        var names = h.State.ServiceNames().Result;
        Assert.Equal(["Web", "db", "web"], names.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["primary", "v1"], names["web"]);

        var created = h.State.NodeServices("n1").Result!.Value.Services.Single();
        Assert.Equal(3UL, created.CreateIndex);
        Assert.Equal(3UL, created.ModifyIndex);
        Assert.Equal(5UL, h.State.TableIndex(Tables.Services));
    }

    [Fact]
    public void An_unchanged_service_registration_changes_nothing_and_a_changed_one_bumps_only_it()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.RegisterService("n1", "web", "web", "v1");
        h.RegisterService("n1", "db", "db");
        var web = h.State.ServiceNodes("web").Watches;
        var db = h.State.ServiceNodes("db").Watches.Where(w => w != h.State.Nodes.Changed).ToList();
        var batch = h.Store.Events.Latest;

        h.RegisterService("n1", "web", "web", "v1");
        Assert.Equal(3UL, h.State.TableIndex(Tables.Services));
        Assert.All(web, w => Assert.False(w.IsCompleted));
        Assert.Null(StateStoreHarness.NextBatch(batch));

        h.RegisterService("n1", "web", "web", "v2");
        var updated = h.State.ServiceNodes("web").Result.Single().Service;
        Assert.Equal(["v2"], updated.Tags);
        Assert.Equal(2UL, updated.CreateIndex);
        Assert.Equal(5UL, updated.ModifyIndex);
        Assert.Equal(5UL, h.State.TableIndex(Tables.Services));
        Assert.Contains(web, w => w.IsCompleted);
        Assert.All(db, w => Assert.False(w.IsCompleted));
        Assert.Equal([new StateEvent(Tables.Services, StateVersion.Key("n1", "web"), 5)], StateStoreHarness.NextBatch(batch)!.Events);
    }

    [Fact]
    public void A_service_without_an_id_takes_its_name_and_a_bad_one_is_refused()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.RegisterService("n1", "", "web");
        Assert.Equal("web", h.State.ServiceNodes("web").Result.Single().Service.Id);
        Assert.NotEmpty(h.RegisterService("n1", "x", "").Refused);
        var badPort = new Register { Node = new Node { Name = "n1" }, SkipNodeUpdate = true, Service = new Service { Name = "api", Port = 70000 } };
        Assert.NotEmpty(h.Apply(new Command { Register = badPort }).Refused);
        Assert.Empty(h.State.ServiceNodes("api").Result);
    }

    [Fact]
    public void Renaming_a_service_moves_it_in_the_by_name_index()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.RegisterService("n1", "svc", "old");
        h.RegisterService("n1", "svc", "new");
        Assert.Empty(h.State.ServiceNodes("old").Result);
        Assert.Equal("new", h.State.ServiceNodes("new").Result.Single().Service.Name);
        h.RegisterService("n1", "svc", "NEW");
        Assert.Equal("NEW", h.State.ServiceNodes("new").Result.Single().Service.Name);
        Assert.Single(h.State.ServicesByName.PrefixWatch("").Entries);
    }

    [Fact]
    public void A_service_check_needs_its_service_and_takes_its_name_and_tags()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        var before = StateStoreHarness.WithoutIndex(h.Store);
        var missing = h.RegisterCheck("n1", "web-alive", "passing", serviceId: "web");
        Assert.Contains("web", missing.Refused, StringComparison.Ordinal);
        Assert.Equal(before, StateStoreHarness.WithoutIndex(h.Store));

        h.RegisterService("n1", "web", "Web", "v1");
        Assert.True(h.RegisterCheck("n1", "web-alive", "passing", serviceId: "web").Ok);
        var check = Assert.Single(h.State.ServiceChecks("web").Result);
        Assert.Equal("Web", check.ServiceName);
        Assert.Equal(["v1"], check.ServiceTags);
        Assert.Equal("n1", check.Node);
    }

    [Fact]
    public void A_registration_is_all_or_nothing()
    {
        var h = new StateStoreHarness();
        var register = new Register { Node = new Node { Name = "n1", Address = "10.0.0.1" }, Service = new Service { Id = "web", Name = "web" } };
        register.Checks.Add(new Check { Id = "ok", Status = "passing" });
        register.Checks.Add(new Check { Id = "orphan", Status = "passing", ServiceId = "nope" });
        var result = h.Apply(new Command { Register = register });
        Assert.NotEmpty(result.Refused);
        Assert.Empty(h.State.NodeList().Result);
        Assert.Empty(h.State.ServiceNames().Result);
        Assert.Empty(h.State.ChecksInState("any").Result);
        Assert.Empty(h.State.TableIndexes);

        register.Checks.RemoveAt(1);
        register.Checks.Add(new Check { Id = "svc", Status = "passing", ServiceId = "web" });
        var batch = h.Store.Events.Latest;
        Assert.True(h.Apply(new Command { Register = register }).Ok);
        Assert.Equal(2UL, h.State.TableIndex(Tables.Nodes));
        Assert.Equal(2UL, h.State.TableIndex(Tables.Services));
        Assert.Equal(2UL, h.State.TableIndex(Tables.Checks));
        Assert.Equal(
            [new StateEvent(Tables.Nodes, "n1", 2), new StateEvent(Tables.Services, StateVersion.Key("n1", "web"), 2), new StateEvent(Tables.Checks, StateVersion.Key("n1", "ok"), 2), new StateEvent(Tables.Checks, StateVersion.Key("n1", "svc"), 2)],
            StateStoreHarness.NextBatch(batch)!.Events);
    }

    [Fact]
    public void Checks_default_to_critical_take_their_name_as_id_and_refuse_unknown_states()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        var register = new Register { Node = new Node { Name = "n1" }, SkipNodeUpdate = true };
        register.Checks.Add(new Check { Name = "alive" });
        h.Apply(new Command { Register = register });
        var check = Assert.Single(h.State.NodeChecks("n1").Result);
        Assert.Equal("alive", check.Id);
        Assert.Equal("critical", check.Status);
        Assert.Equal(["alive"], h.State.ChecksInState("critical").Result.Select(c => c.Id));
        Assert.Empty(h.State.ChecksInState("passing").Result);

        Assert.NotEmpty(h.RegisterCheck("n1", "x", "sideways").Refused);
        register.Checks[0] = new Check();
        Assert.NotEmpty(h.Apply(new Command { Register = register }).Refused);
        Assert.Single(h.State.ChecksInState("any").Result);
    }

    [Fact]
    public void An_unchanged_check_registration_changes_nothing()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.RegisterCheck("n1", "c", "passing");
        var watch = h.State.NodeChecks("n1").Watches;
        h.RegisterCheck("n1", "c", "passing");
        Assert.Equal(2UL, h.State.TableIndex(Tables.Checks));
        Assert.All(watch, w => Assert.False(w.IsCompleted));
        h.RegisterCheck("n1", "c", "warning");
        Assert.Equal(4UL, h.State.TableIndex(Tables.Checks));
        var check = h.State.NodeChecks("n1").Result.Single();
        Assert.Equal(2UL, check.CreateIndex);
        Assert.Equal(4UL, check.ModifyIndex);
        Assert.All(watch, w => Assert.True(w.IsCompleted));
    }

    [Fact]
    public void Deregistering_a_service_removes_its_checks_and_leaves_the_rest()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.RegisterService("n1", "web", "web");
        h.RegisterService("n1", "db", "db");
        h.RegisterCheck("n1", "node", "passing");
        h.RegisterCheck("n1", "web-check", "passing", "web");
        h.RegisterCheck("n1", "db-check", "passing", "db");

        h.Deregister("n1", serviceId: "web");
        Assert.Equal(["db"], h.State.NodeServices("n1").Result!.Value.Services.Select(s => s.Id));
        Assert.Equal(["db-check", "node"], h.State.NodeChecks("n1").Result.Select(c => c.Id));
        Assert.Empty(h.State.ServiceChecks("web").Result);
        Assert.Empty(h.State.ServiceNodes("web").Result);

        h.Deregister("n1", checkId: "db-check");
        Assert.Equal(["node"], h.State.NodeChecks("n1").Result.Select(c => c.Id));
        Assert.Empty(h.State.ServiceChecks("db").Result);
        Assert.Single(h.State.ServiceNodes("db").Result);
    }

    [Fact]
    public void Deregistering_a_node_removes_everything_on_it()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.RegisterNode("n2", address: "10.0.0.2");
        h.RegisterService("n1", "web", "web");
        h.RegisterService("n2", "web", "web");
        h.RegisterCheck("n1", "web-check", "passing", "web");
        h.RegisterCheck("n1", "node", "passing");
        var batch = h.Store.Events.Latest;

        Assert.True(h.Deregister("n1").Ok);
        Assert.Null(h.State.NodeGet("n1").Result);
        Assert.Null(h.State.NodeServices("n1").Result);
        Assert.Empty(h.State.NodeChecks("n1").Result);
        Assert.Equal(["n2"], h.State.ServiceNodes("web").Result.Select(s => s.Node.Name));
        Assert.Empty(h.State.ServiceChecks("web").Result);
        Assert.Equal(7UL, h.State.TableIndex(Tables.Nodes));
        Assert.Equal(7UL, h.State.TableIndex(Tables.Services));
        Assert.Equal(7UL, h.State.TableIndex(Tables.Checks));
        Assert.Equal(
            [StateVersion.Key("n1", "web-check"), StateVersion.Key("n1", "web"), StateVersion.Key("n1", "node"), "n1"],
            StateStoreHarness.NextBatch(batch)!.Events.Select(e => e.Key));
    }

    [Fact]
    public void Deregistering_what_is_not_there_is_not_an_error_and_changes_nothing()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        var before = StateStoreHarness.WithoutIndex(h.Store);
        var batch = h.Store.Events.Latest;
        Assert.True(h.Deregister("ghost").Ok);
        Assert.True(h.Deregister("n1", serviceId: "nope").Ok);
        Assert.True(h.Deregister("n1", checkId: "nope").Ok);
        Assert.NotEmpty(h.Deregister("").Refused);
        Assert.Equal(before, StateStoreHarness.WithoutIndex(h.Store));
        Assert.Null(StateStoreHarness.NextBatch(batch));
    }

    [Fact]
    public void Health_answers_each_instance_with_its_node_checks_and_its_own()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.RegisterService("n1", "web", "web");
        h.RegisterService("n1", "db", "db");
        h.RegisterCheck("n1", "serfHealth", "passing");
        h.RegisterCheck("n1", "web-check", "warning", "web");
        h.RegisterCheck("n1", "db-check", "critical", "db");
        var instance = Assert.Single(h.State.HealthService("web").Result);
        Assert.Equal("n1", instance.Node.Name);
        Assert.Equal(["serfHealth", "web-check"], instance.Checks.Select(c => c.Id));
    }

    [Fact]
    public void Node_reads_watch_their_node_only()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.RegisterNode("n2", address: "10.0.0.2");
        h.RegisterCheck("n1", "a", "passing");
        h.RegisterCheck("n2", "b", "passing");
        var n1 = h.State.NodeGet("n1").Watches;
        var checks = h.State.NodeChecks("n1").Watches;
        h.RegisterNode("n2", address: "10.0.0.3");
        h.RegisterNode("n3", address: "10.0.0.4");
        h.RegisterCheck("n2", "c", "passing");
        Assert.All(n1.Concat(checks), w => Assert.False(w.IsCompleted));
        h.RegisterCheck("n1", "c", "passing");
        Assert.All(checks, w => Assert.True(w.IsCompleted));
        Assert.All(n1, w => Assert.False(w.IsCompleted));
        h.Deregister("n1");
        Assert.All(n1, w => Assert.True(w.IsCompleted));
    }
}
