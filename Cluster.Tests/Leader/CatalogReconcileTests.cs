using Cluster.Contracts.State;
using Cluster.Gossip.Core;
using Cluster.Gossip.Wire;
using Cluster.Server.Leader;
using Cluster.Tests.Server;

namespace Cluster.Tests.Leader;

/// <summary>The leader's catalog reconcile: gossip members and the catalog in, the commands to apply out.</summary>
public sealed class CatalogReconcileTests
{
    private static readonly TimeSpan Converged = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Convergence = TimeSpan.FromSeconds(60);

    private static Member Member(string name, MemberStatus status = MemberStatus.Alive, string address = "10.0.0.1", string role = "node", string? dc = null)
    {
        var tags = new Dictionary<string, string> { ["role"] = role, ["id"] = $"id-{name}" };
        if (role == "consul")
        {
            tags["port"] = "8300";
        }

        if (dc is not null)
        {
            tags["dc"] = dc;
        }

        return new Member(name, $"{address}:8301", 1, status, tags, TimeSpan.Zero);
    }

    private static StateStoreHarness Catalog(params (string Node, string Address, string Serf)[] nodes)
    {
        var h = new StateStoreHarness();
        foreach (var (node, address, serf) in nodes)
        {
            h.RegisterNode(node, address);
            h.RegisterCheck(node, "serfHealth", serf);
        }

        return h;
    }

    private static string Describe(Command c) => c.OpCase switch
    {
        Command.OpOneofCase.Deregister => $"deregister {c.Deregister.Node}",
        Command.OpOneofCase.Register => $"register {c.Register.Node.Name}@{c.Register.Node.Address} serf={c.Register.Checks.Single().Status}"
            + (c.Register.Service is { } s ? $" service={s.Id}:{s.Port}" : "")
            + (c.Register.SkipNodeUpdate ? " (node kept)" : ""),
        _ => c.OpCase.ToString(),
    };

    public static TheoryData<string, StateStoreHarness, Member[], string[]> Cases => new()
    {
        { "a new member", Catalog(), [Member("c1")], ["register c1@10.0.0.1 serf=passing"] },
        { "a member as the catalog has it", Catalog(("c1", "10.0.0.1", "passing")), [Member("c1")], [] },
        { "a suspect member is still alive", Catalog(("c1", "10.0.0.1", "passing")), [Member("c1", MemberStatus.Suspect)], [] },
        { "a failed member", Catalog(("c1", "10.0.0.1", "passing")), [Member("c1", MemberStatus.Dead)], ["register c1@10.0.0.1 serf=critical (node kept)"] },
        { "a member back from failure", Catalog(("c1", "10.0.0.1", "critical")), [Member("c1")], ["register c1@10.0.0.1 serf=passing (node kept)"] },
        { "a member at a new address", Catalog(("c1", "10.0.0.1", "passing")), [Member("c1", address: "10.0.0.9")], ["register c1@10.0.0.9 serf=passing"] },
        { "a member that left", Catalog(("c1", "10.0.0.1", "passing")), [Member("c1", MemberStatus.Left)], ["deregister c1"] },
        { "a member that left and is gone already", Catalog(), [Member("c1", MemberStatus.Left)], [] },
        { "a server without its consul service", Catalog(("s1", "10.0.0.1", "passing")), [Member("s1", role: "consul")], ["register s1@10.0.0.1 serf=passing service=consul:8300 (node kept)"] },
        { "another datacenter's member", Catalog(), [Member("w1", dc: "dc2")], [] },
        { "a node seen failing and now unknown to gossip", Catalog(("gone", "10.0.0.2", "critical")), [], ["deregister gone"] },
        { "a node unknown to gossip but never seen failing", Catalog(("quiet", "10.0.0.2", "passing")), [], [] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_plan_is_the_commands_that_make_the_catalog_match_gossip(string name, StateStoreHarness catalog, Member[] members, string[] expected)
    {
        _ = name;
        Assert.Equal(expected, CatalogReconcile.Plan(catalog.State, members, "dc1", Converged, Convergence).Select(Describe));
    }

    [Fact]
    public void Nothing_is_reaped_before_this_servers_gossip_has_had_time_to_learn_every_member()
    {
        var catalog = Catalog(("gone", "10.0.0.2", "critical"));
        Assert.Empty(CatalogReconcile.Plan(catalog.State, [], "dc1", TimeSpan.FromSeconds(5), Convergence));
    }

    [Fact]
    public void A_registration_keeps_the_nodes_meta_and_tagged_addresses()
    {
        var catalog = new StateStoreHarness();
        catalog.RegisterNode("c1", "10.0.0.1", new Dictionary<string, string> { ["rack"] = "r1" });
        var register = Assert.Single(CatalogReconcile.Plan(catalog.State, [Member("c1", MemberStatus.Dead)], "dc1", Converged, Convergence)).Register;
        Assert.Equal("r1", register.Node.Meta["rack"]);
        Assert.Equal("id-c1", register.Node.Id);
    }

    [Fact]
    public void Applying_the_plan_leaves_nothing_to_do()
    {
        var catalog = Catalog(("c1", "10.0.0.1", "passing"), ("gone", "10.0.0.3", "critical"));
        Member[] members = [Member("c1", MemberStatus.Dead), Member("c2", address: "10.0.0.2"), Member("s1", role: "consul", address: "10.0.0.4")];
        foreach (var command in CatalogReconcile.Plan(catalog.State, members, "dc1", Converged, Convergence))
        {
            Assert.True(catalog.Apply(command).Ok);
        }

        Assert.Empty(CatalogReconcile.Plan(catalog.State, members, "dc1", Converged, Convergence));
    }
}
