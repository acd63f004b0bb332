using Cluster.Agent.Local;
using Cluster.Contracts.State;

namespace Cluster.Tests.Local;

/// <summary>Anti-entropy's pure decisions: what a full sync marks, and which writes a sync sends in which order.</summary>
public sealed class AntiEntropyTests
{
    private static readonly SyncNode Self = new("web-1", "11111111-2222-3333-4444-555555555555", "dc1", "10.0.0.5", IsServer: false);

    private static Service Svc(string id, int port = 80, string name = "web") => new() { Id = id, Name = name, Port = port, Node = "web-1" };

    private static Check Chk(string id, string status = "passing", string serviceId = "") => new() { Id = id, Name = id, Status = status, ServiceId = serviceId, Node = "web-1" };

    private static NodeStateReply Remote(IEnumerable<Service>? services = null, IEnumerable<Check>? checks = null, string address = "10.0.0.5", bool node = true)
    {
        var reply = new NodeStateReply { Index = 10 };
        if (node)
        {
            reply.Node = new Node { Name = "web-1", Id = Self.Id, Address = address };
        }

        reply.Services.Add(services ?? []);
        reply.Checks.Add(checks ?? []);
        return reply;
    }

    private static Dictionary<string, SyncEntry<T>> Local<T>(params (string Id, T Value, bool InSync, bool Deleted)[] entries)
        where T : class =>
        entries.ToDictionary(e => e.Id, e => new SyncEntry<T>(e.Value, e.InSync, e.Deleted), StringComparer.Ordinal);

    public static TheoryData<string, Dictionary<string, SyncEntry<Service>>, NodeStateReply, Dictionary<string, SyncMark>> ServiceCases => new()
    {
        { "equal on both sides", Local(("a", Svc("a"), false, false)), Remote([Svc("a")]), new() { ["a"] = SyncMark.InSync } },
        { "indexes and node field differ only", Local(("a", Svc("a"), false, false)), Remote([new Service(Svc("a")) { CreateIndex = 3, ModifyIndex = 9, Node = "WEB-1" }]), new() { ["a"] = SyncMark.InSync } },
        { "the catalog's port differs", Local(("a", Svc("a"), true, false)), Remote([Svc("a", port: 81)]), new() { ["a"] = SyncMark.OutOfSync } },
        { "missing from the catalog", Local(("a", Svc("a"), true, false)), Remote([]), new() { ["a"] = SyncMark.OutOfSync } },
        { "unknown to the agent", Local<Service>(), Remote([Svc("stray")]), new() { ["stray"] = SyncMark.RemoveRemote } },
        { "a removal not yet sent", Local(("a", Svc("a"), false, true)), Remote([Svc("a")]), new() },
        { "a removal the catalog has seen", Local(("a", Svc("a"), false, true)), Remote([]), new() { ["a"] = SyncMark.Forget } },
    };

    [Theory]
    [MemberData(nameof(ServiceCases))]
    public void A_full_sync_marks_each_service_by_the_catalogs_view(string name, Dictionary<string, SyncEntry<Service>> local, NodeStateReply remote, Dictionary<string, SyncMark> expected)
    {
        _ = name;
        var marks = AntiEntropy.Compare(Self, local, Local<Check>(), remote);
        Assert.Equal(expected, marks.Services);
    }

    [Fact]
    public void The_leaders_entries_are_never_the_agents_to_remove()
    {
        var server = Self with { IsServer = true };
        var remote = Remote([Svc("consul", 8300, "consul")], [Chk("serfHealth")]);
        var marks = AntiEntropy.Compare(server, Local<Service>(), Local<Check>(), remote);
        Assert.Empty(marks.Services);
        Assert.Empty(marks.Checks);

        // A client agent has no consul service of its own to protect: one in its catalog entry is a stray.
        Assert.Equal(SyncMark.RemoveRemote, AntiEntropy.Compare(Self, Local<Service>(), Local<Check>(), remote).Services["consul"]);
    }

    [Fact]
    public void Checks_compare_without_the_service_tags_the_catalog_copies_into_them()
    {
        var remote = new Check(Chk("c1", serviceId: "a")) { ServiceTags = { "v1" }, ModifyIndex = 7 };
        var marks = AntiEntropy.Compare(Self, Local<Service>(), Local(("c1", Chk("c1", serviceId: "a"), false, false)), Remote(checks: [remote]));
        Assert.Equal(SyncMark.InSync, marks.Checks["c1"]);
        Assert.Equal(SyncMark.OutOfSync, AntiEntropy.Compare(Self, Local<Service>(), Local(("c1", Chk("c1", "critical", "a"), true, false)), Remote(checks: [remote])).Checks["c1"]);
    }

    [Theory]
    [InlineData(true, "10.0.0.5", true)]
    [InlineData(true, "10.0.0.6", false)]
    [InlineData(false, "10.0.0.5", false)]
    public void The_node_is_in_sync_when_the_catalog_has_it_at_this_address_and_id(bool present, string address, bool inSync) =>
        Assert.Equal(inSync, AntiEntropy.Compare(Self, Local<Service>(), Local<Check>(), Remote(address: address, node: present)).NodeInSync);

    [Fact]
    public void A_sync_of_what_is_in_sync_writes_nothing()
    {
        var plan = AntiEntropy.Plan(Self, nodeInSync: true, Local(("a", Svc("a"), true, false)), Local(("c", Chk("c", serviceId: "a"), true, false)));
        Assert.True(plan.IsEmpty);
    }

    [Fact]
    public void A_sync_registers_the_node_removes_then_registers_services_with_all_their_checks_then_lone_checks()
    {
        var services = Local(
            ("gone", Svc("gone"), false, true),
            ("web", Svc("web"), false, false),
            ("db", Svc("db", 5432, "db"), true, false));
        var checks = Local(
            ("old", Chk("old"), false, true),
            ("web-alive", Chk("web-alive", serviceId: "web"), true, false),
            ("web-http", Chk("web-http", "critical", "web"), false, false),
            ("web-removed", Chk("web-removed", serviceId: "web"), false, true),
            ("db-tcp", Chk("db-tcp", "warning", "db"), false, false),
            ("mem", Chk("mem"), false, false),
            ("disk", Chk("disk"), true, false));
        var plan = AntiEntropy.Plan(Self, nodeInSync: false, services, checks);

        Assert.NotNull(plan.Node);
        var node = plan.Node!.Command.Register;
        Assert.False(node.SkipNodeUpdate);
        Assert.Equal(("web-1", "10.0.0.5", "10.0.0.5"), (node.Node.Name, node.Node.Address, node.Node.TaggedAddresses["lan"]));

        Assert.Equal(["gone"], plan.ServiceRemovals.Select(w => w.Command.Deregister.ServiceId));
        Assert.Equal(["old", "web-removed"], plan.CheckRemovals.Select(w => w.Command.Deregister.CheckId));

        // web goes with both its live checks (the one in sync too); db is in sync, so db-tcp goes alone.
        var web = Assert.Single(plan.Services);
        Assert.Equal("web", web.Command.Register.Service.Id);
        Assert.True(web.Command.Register.SkipNodeUpdate);
        Assert.Equal(["web-alive", "web-http"], web.Command.Register.Checks.Select(c => c.Id));
        Assert.Equal(["web"], web.Services);
        Assert.Equal(["web-alive", "web-http"], web.Checks);
        Assert.Equal(["db-tcp", "mem"], plan.Checks.Select(w => Assert.Single(w.Command.Register.Checks).Id));
        Assert.Equal(5, plan.Steps.Count());
    }

    [Fact]
    public void Planned_writes_carry_copies_so_a_later_local_change_cannot_alter_what_is_sent()
    {
        var service = Svc("web");
        var plan = AntiEntropy.Plan(Self, nodeInSync: true, Local(("web", service, false, false)), Local<Check>());
        service.Port = 9999;
        Assert.Equal(80, plan.Services[0].Command.Register.Service.Port);
    }
}
