using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Contracts.State;
using Cluster.Server.Connect;
using Cluster.Server.Nodes;

namespace Cluster.Agent.Connect;

/// <summary>
/// One intention as /v1/connect/intentions shows it: one source of a destination's entry, with the
/// entry's Raft indexes (an intention has none of its own since intentions became config entries).
/// </summary>
public sealed record Intention(ServiceIntentions Entry, SourceIntention Source, ulong CreateIndex, ulong ModifyIndex)
{
    private static readonly ImmutableSortedDictionary<string, string> NoMeta = ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal);

    public ServiceName Destination => Entry.Destination;

    /// <summary>The legacy API's UUID, or empty.</summary>
    public string Id => Source.LegacyId;

    /// <summary>A legacy intention keeps its own meta; any other shows its entry's.</summary>
    public ImmutableSortedDictionary<string, string> Meta => Source.LegacyId.Length > 0 ? Source.LegacyMeta ?? NoMeta : Entry.Meta;

    /// <summary>How L4 authorization sees it; null for a peer's source, which no identity of this cluster can match.</summary>
    public IntentionRule? Rule => Source.Peer.Length > 0 ? null : new(Source.Name, Entry.Destination, Source.RuleAction);

    /// <summary>Consul's one-line form: <c>web => db (allow)</c>, the default namespace left out.</summary>
    public override string ToString() => $"{Source.Name} => {Entry.Destination} ({Source.Action})";
}

public enum IntentionMatchBy
{
    Source,
    Destination,
}

/// <summary>
/// Every intention in a set of stored service-intentions entries, in Consul's order (precedence,
/// then source namespace and name, then destination), and the reads the API makes of them. Pure:
/// built from the entries a query returned.
/// </summary>
public sealed class IntentionSet
{
    private IntentionSet(ImmutableArray<Intention> all, ImmutableArray<ServiceIntentions> entries)
    {
        All = all;
        Entries = entries;
    }

    /// <summary>Every intention, highest precedence first.</summary>
    public ImmutableArray<Intention> All { get; }

    public ImmutableArray<ServiceIntentions> Entries { get; }

    public static IntentionSet From(IEnumerable<ConfigEntry> stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var all = ImmutableArray.CreateBuilder<Intention>();
        var entries = ImmutableArray.CreateBuilder<ServiceIntentions>();
        foreach (var config in stored)
        {
            var entry = Read(config);
            entries.Add(entry);
            all.AddRange(entry.Sources.Select(s => new Intention(entry, s, config.CreateIndex, config.ModifyIndex)));
        }

        all.Sort(ConsulOrder);
        return new IntentionSet(all.ToImmutable(), entries.ToImmutable());
    }

    /// <summary>A stored entry as the model; <see cref="InvalidRequestException"/> if its JSON is not one we wrote.</summary>
    public static ServiceIntentions Read(ConfigEntry stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        JsonObject json;
        try
        {
            json = JsonNode.Parse(stored.Json) as JsonObject ?? throw new InvalidRequestException($"stored intentions for \"{stored.Name}\" are not a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidRequestException($"stored intentions for \"{stored.Name}\" are not JSON: {e.Message}");
        }

        return IntentionValidation.WithNamespaces(ServiceIntentionsJson.Parse(json));
    }

    public Intention? Exact(ServiceName source, ServiceName destination, string peer = "") =>
        All.FirstOrDefault(i => i.Source.Name == source && i.Source.Peer == peer && i.Destination == destination);

    public Intention? ById(string id) => id.Length == 0 ? null : All.FirstOrDefault(i => i.Id == id);

    /// <summary>
    /// The intentions that apply to <paramref name="name"/> on one side, wildcards included, in
    /// evaluation order. By source only this cluster's sources count (a peer's never matches a local name).
    /// </summary>
    public ImmutableArray<Intention> Match(IntentionMatchBy by, ServiceName name) =>
        [.. All.Where(i => by == IntentionMatchBy.Destination ? i.Destination.Matches(name) : i.Source.Peer.Length == 0 && i.Source.Name.Matches(name))];

    /// <summary>Whether a connection from <paramref name="source"/> to <paramref name="destination"/> would be allowed (L7 intentions deny).</summary>
    public Authorization Check(ServiceName source, ServiceName destination, IntentionDefault fallback) =>
        IntentionRules.Authorize(All.Select(i => i.Rule).OfType<IntentionRule>(), source, destination, fallback);

    /// <summary>Consul's IntentionPrecedenceSorter: precedence descending, then the names in byte order.</summary>
    public static int ConsulOrder(Intention? a, Intention? b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var byPrecedence = b.Source.Precedence.CompareTo(a.Source.Precedence);
        return byPrecedence != 0 ? byPrecedence
            : string.CompareOrdinal(a.Source.Name.Namespace, b.Source.Name.Namespace) is var ns and not 0 ? ns
            : string.CompareOrdinal(a.Source.Name.Name, b.Source.Name.Name) is var n and not 0 ? n
            : string.CompareOrdinal(a.Destination.Namespace, b.Destination.Namespace) is var dns and not 0 ? dns
            : string.CompareOrdinal(a.Destination.Name, b.Destination.Name) is var dn and not 0 ? dn
            : string.CompareOrdinal(a.Source.Peer, b.Source.Peer);
    }
}
