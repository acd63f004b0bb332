using System.Collections.Immutable;
using Cluster.Agent.Connect;
using Cluster.Server.Connect;
using Cluster.Server.Nodes;

namespace Cluster.Tests.Connect;

/// <summary>The intention API's writes as edits of the destination's entry.</summary>
public sealed class IntentionEditsTests
{
    private static readonly ServiceName Db = ServiceName.Default("db");
    private static readonly ImmutableSortedDictionary<string, string> NoMeta = ImmutableSortedDictionary<string, string>.Empty;
    private static readonly DateTimeOffset Then = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static SourceIntention Source(string name, string action = "allow") => new() { Name = ServiceName.Default(name), Action = action };

    private static SourceIntention Legacy(string name, string id, string action = "allow", DateTimeOffset? at = null) =>
        Source(name, action) with { LegacyId = id, LegacyMeta = NoMeta, LegacyCreateTime = at ?? Then, LegacyUpdateTime = at ?? Then };

    private static ServiceIntentions Written(EntryChange? change) => Assert.IsType<EntryChange.Write>(change).Entry;

    [Fact]
    public void Upsert_creates_the_entry_then_adds_and_replaces_sources_keeping_precedence_order()
    {
        var created = Written(IntentionEdits.Upsert(null, Db, Source("*", "deny"), NoMeta));
        Assert.Equal([("*", 8)], created.Sources.Select(s => (s.Name.Name, s.Precedence)));

        var added = Written(IntentionEdits.Upsert(created, Db, Source("web"), NoMeta));
        Assert.Equal([("web", "allow", 9), ("*", "deny", 8)], added.Sources.Select(s => (s.Name.Name, s.Action, s.Precedence)));

        var replaced = Written(IntentionEdits.Upsert(added, Db, Source("web", "deny"), NoMeta));
        Assert.Equal([("web", "deny"), ("*", "deny")], replaced.Sources.Select(s => (s.Name.Name, s.Action)));
    }

    [Fact]
    public void Upsert_may_carry_the_entrys_meta_unchanged_and_nothing_else()
    {
        var meta = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("team", "core")]);
        Assert.Contains("Meta must not be specified", Assert.Throws<InvalidRequestException>(() => IntentionEdits.Upsert(null, Db, Source("web"), meta)).Message, StringComparison.Ordinal);
        var entry = ServiceIntentions.Of(Db, Source("web")) with { Meta = meta };
        _ = Written(IntentionEdits.Upsert(entry, Db, Source("api"), meta));
        var other = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("team", "edge")]);
        Assert.Contains("should be unchanged", Assert.Throws<InvalidRequestException>(() => IntentionEdits.Upsert(entry, Db, Source("api"), other)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Upsert_by_name_turns_legacy_intentions_into_config_entry_ones()
    {
        var legacy = ServiceIntentions.Of(Db, Legacy("web", "4f3e4b9a-2a51-4cf6-8f0e-3d1c0a4a5a10"));
        var entry = Written(IntentionEdits.Upsert(legacy, Db, Source("api"), NoMeta));
        Assert.All(entry.Sources, s => Assert.Equal(("", null), (s.LegacyId, s.LegacyCreateTime)));
    }

    [Fact]
    public void Delete_is_idempotent_and_the_last_source_takes_the_entry_with_it()
    {
        Assert.IsType<EntryChange.Unchanged>(IntentionEdits.Delete(null, ServiceName.Default("web")));
        var entry = Written(IntentionEdits.Upsert(Written(IntentionEdits.Upsert(null, Db, Source("web"), NoMeta)), Db, Source("api"), NoMeta));
        Assert.IsType<EntryChange.Unchanged>(IntentionEdits.Delete(entry, ServiceName.Default("cache")));
        var rest = Written(IntentionEdits.Delete(entry, ServiceName.Default("web")));
        Assert.Equal(["api"], rest.Sources.Select(s => s.Name.Name));
        Assert.IsType<EntryChange.Remove>(IntentionEdits.Delete(rest, ServiceName.Default("api")));
    }

    [Fact]
    public void Legacy_writes_need_every_source_to_be_legacy_and_keep_the_creation_time()
    {
        var first = Written(IntentionEdits.LegacyCreate(null, Db, Legacy("web", "id-1")));
        var both = Written(IntentionEdits.LegacyCreate(first, Db, Legacy("api", "id-2")));
        Assert.Contains("defines \"web\" more than once", Assert.Throws<InvalidRequestException>(() => IntentionEdits.LegacyCreate(both, Db, Legacy("web", "id-3"))).Message, StringComparison.Ordinal);

        var later = Then.AddHours(1);
        var updated = Written(IntentionEdits.LegacyUpdate(both, Db, Legacy("web", "id-1", "deny", later)));
        var web = updated.Sources.Single(s => s.LegacyId == "id-1");
        Assert.Equal(("deny", Then, later), (web.Action, web.LegacyCreateTime, web.LegacyUpdateTime));
        Assert.Contains("Cannot modify Destination", Assert.Throws<InvalidRequestException>(() => IntentionEdits.LegacyUpdate(both, ServiceName.Default("cache"), Legacy("web", "id-1"))).Message, StringComparison.Ordinal);
        Assert.Null(IntentionEdits.LegacyUpdate(both, Db, Legacy("web", "id-9")));

        Assert.Equal(["id-2"], Written(IntentionEdits.LegacyDelete(updated, "id-1")).Sources.Select(s => s.LegacyId));
        Assert.IsType<EntryChange.Remove>(IntentionEdits.LegacyDelete(first, "id-1"));
        Assert.Null(IntentionEdits.LegacyDelete(first, "id-9"));

        var byName = Written(IntentionEdits.Upsert(first, Db, Source("api"), NoMeta));
        Assert.Contains("cannot use legacy intention API", Assert.Throws<InvalidRequestException>(() => IntentionEdits.LegacyCreate(byName, Db, Legacy("ops", "id-4"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Entries_of_other_namespaces_are_stored_under_namespace_and_name() =>
        Assert.Equal(["db", "team/db", "*/*", "*"], new[] { Db, new ServiceName("team", "db"), new ServiceName("*", "*"), ServiceName.Default("*") }.Select(IntentionEdits.StoreName));
}
