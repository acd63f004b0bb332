using Cluster.Contracts.State;
using Cluster.Server.State;
using Cluster.Server.Streaming;
using Cluster.Tests.Server;

namespace Cluster.Tests.Streaming;

/// <summary>The topics' pure functions: which events a run of state changes makes for one subject.</summary>
public sealed class SubscriptionTopicTests
{
    [Theory]
    [InlineData("kv", "", typeof(KvTopic))]
    [InlineData("kv", "app/", typeof(KvTopic))]
    [InlineData("service-health", "web", typeof(ServiceHealthTopic))]
    [InlineData("config", "service-intentions", typeof(ConfigTopic))]
    [InlineData("config", "service-defaults/web", typeof(ConfigTopic))]
    public void A_request_names_its_subject(string topic, string key, Type expected) =>
        Assert.IsType(expected, SubscriptionTopic.Parse(topic, key));

    [Theory]
    [InlineData("nodes", "", "unknown topic \"nodes\"")]
    [InlineData("service-health", "", "needs a service name")]
    [InlineData("config", "", "needs a kind")]
    [InlineData("", "x", "unknown topic \"\"")]
    public void A_request_without_a_subject_is_refused_with_a_reason(string topic, string key, string reason) =>
        Assert.Contains(reason, Assert.Throws<ArgumentException>(() => SubscriptionTopic.Parse(topic, key)).Message, StringComparison.Ordinal);

    public static TheoryData<string, Action<StateStoreHarness>, string[]> KvCases => new()
    {
        { "a set under the prefix", h => h.Set("app/x", "1"), ["upsert app/x=1"] },
        { "a set elsewhere", h => h.Set("other/x"), [] },
        { "a delete of a key the reader had", h => h.Delete("app/a"), ["delete app/a"] },
        { "a delete of a key the reader never had", h => h.Delete("other/a"), [] },
        { "a tree delete", h => h.DeleteTree("app/"), ["delete app/a", "delete app/b"] },
        { "a set then a delete of a new key", h => { h.Set("app/new"); h.Delete("app/new"); }, [] },
        { "two sets of one key", h => { h.Set("app/a", "2"); h.Set("app/a", "3"); }, ["upsert app/a=3"] },
    };

    [Theory]
    [MemberData(nameof(KvCases))]
    public void Kv_changes_are_the_keys_touched_under_the_prefix(string name, Action<StateStoreHarness> writes, string[] expected)
    {
        _ = name;
        var h = new StateStoreHarness();
        h.Set("app/a");
        h.Set("app/b");
        h.Set("other/a");
        var (before, after, events) = Across(h, writes);
        Assert.Equal(expected, Describe(new KvTopic("app/").Changes(before, after, events)));
    }

    [Fact]
    public void A_resumed_reader_of_unknown_state_is_sent_every_touched_absent_key_as_a_delete()
    {
        var h = new StateStoreHarness();
        var (_, after, events) = Across(h, h => { h.Set("app/new"); h.Delete("app/new"); });
        Assert.Equal(["delete app/new"], Describe(new KvTopic("app/").Changes(null, after, events)));
    }

    public static TheoryData<string, Action<StateStoreHarness>, string[]> HealthCases => new()
    {
        { "a new instance", h => h.RegisterService("n2", "web-2", "web"), ["upsert n2/web-2 checks=0"] },
        { "another service's instance", h => h.RegisterService("n2", "db", "db"), [] },
        { "a check on the instance's node", h => h.RegisterCheck("n1", "mem", "warning"), ["upsert n1/web-1 checks=2"] },
        { "a check of another service on that node", h => { h.RegisterService("n1", "db", "db"); h.RegisterCheck("n1", "db-check", "critical", "db"); }, ["upsert n1/web-1 checks=1"] },
        { "its own check", h => h.RegisterCheck("n1", "web-check", "critical", "web-1"), ["upsert n1/web-1 checks=2"] },
        { "a node change", h => h.RegisterNode("n1", address: "10.0.0.9"), ["upsert n1/web-1 checks=1"] },
        { "a change on a node without it", h => h.RegisterCheck("n2", "disk", "passing"), [] },
        { "the instance deregistered", h => h.Deregister("n1", serviceId: "web-1"), ["delete n1/web-1"] },
        { "the node deregistered", h => h.Deregister("n1"), ["delete n1/web-1"] },
        { "the instance renamed away", h => h.RegisterService("n1", "web-1", "api"), ["delete n1/web-1"] },
        { "an instance renamed to it", h => { h.RegisterService("n2", "x", "other"); h.RegisterService("n2", "x", "WEB"); }, ["upsert n2/x checks=0"] },
    };

    [Theory]
    [MemberData(nameof(HealthCases))]
    public void Service_health_changes_are_the_instances_whose_service_node_or_checks_changed(string name, Action<StateStoreHarness> writes, string[] expected)
    {
        _ = name;
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.RegisterNode("n2", address: "10.0.0.2");
        h.RegisterService("n1", "web-1", "web");
        h.RegisterCheck("n1", "serfHealth", "passing");
        var (before, after, events) = Across(h, writes);
        Assert.Equal(expected, Describe(new ServiceHealthTopic("web").Changes(before, after, events)));
    }

    [Fact]
    public void A_service_health_snapshot_is_every_instance_with_its_checks()
    {
        var h = new StateStoreHarness();
        h.RegisterNode("n1");
        h.RegisterService("n1", "web-1", "web");
        h.RegisterService("n1", "web-2", "Web");
        h.RegisterCheck("n1", "serfHealth", "passing");
        h.RegisterCheck("n1", "web-2-check", "critical", "web-2");
        Assert.Equal(["upsert n1/web-1 checks=1", "upsert n1/web-2 checks=2"], Describe(new ServiceHealthTopic("web").Snapshot(h.State)));
    }

    public static TheoryData<string?, Action<StateStoreHarness>, string[]> ConfigCases => new()
    {
        { null, h => h.Config(ConfigOp.Types.Verb.Upsert, "service-defaults", "api"), ["upsert service-defaults/api"] },
        { null, h => h.Config(ConfigOp.Types.Verb.Upsert, "proxy-defaults", "global"), [] },
        { null, h => h.Config(ConfigOp.Types.Verb.Delete, "service-defaults", "web"), ["delete service-defaults/web"] },
        { "web", h => h.Config(ConfigOp.Types.Verb.Upsert, "service-defaults", "api"), [] },
        { "web", h => h.Config(ConfigOp.Types.Verb.Upsert, "service-defaults", "web", """{"Protocol":"http"}"""), ["upsert service-defaults/web"] },
    };

    [Theory]
    [MemberData(nameof(ConfigCases))]
    public void Config_changes_are_the_entries_of_the_kind_or_the_one_entry(string? entry, Action<StateStoreHarness> writes, string[] expected)
    {
        var h = new StateStoreHarness();
        h.Config(ConfigOp.Types.Verb.Upsert, "service-defaults", "web");
        var (before, after, events) = Across(h, writes);
        Assert.Equal(expected, Describe(new ConfigTopic("service-defaults", entry).Changes(before, after, events)));
    }

    /// <summary>The versions before and after <paramref name="writes"/> and the events they made.</summary>
    private static (StateVersion Before, StateVersion After, List<StateEvent> Events) Across(StateStoreHarness h, Action<StateStoreHarness> writes)
    {
        var before = h.State;
        var batch = h.Store.Events.Latest;
        writes(h);
        var events = new List<StateEvent>();
        while (batch.NextIfReady is { } next)
        {
            events.AddRange(next.Events);
            batch = next;
        }

        return (before, h.State, events);
    }

    internal static IEnumerable<string> Describe(IEnumerable<SubscribeChange> changes) => changes.Select(e => e.PayloadCase switch
    {
        SubscribeChange.PayloadOneofCase.KvUpsert => $"upsert {e.KvUpsert.Key}={e.KvUpsert.Value.ToStringUtf8()}",
        SubscribeChange.PayloadOneofCase.KvDelete => $"delete {e.KvDelete}",
        SubscribeChange.PayloadOneofCase.InstanceUpsert => $"upsert {e.InstanceUpsert.Node.Name}/{e.InstanceUpsert.Service.Id} checks={e.InstanceUpsert.Checks.Count}",
        SubscribeChange.PayloadOneofCase.InstanceDelete => $"delete {e.InstanceDelete.Node}/{e.InstanceDelete.ServiceId}",
        SubscribeChange.PayloadOneofCase.ConfigUpsert => $"upsert {e.ConfigUpsert.Kind}/{e.ConfigUpsert.Name}",
        SubscribeChange.PayloadOneofCase.ConfigDelete => $"delete {e.ConfigDelete.Kind}/{e.ConfigDelete.Name}",
        _ => e.PayloadCase.ToString(),
    });
}
