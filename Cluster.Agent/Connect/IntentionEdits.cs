using System.Collections.Immutable;
using Cluster.Server.Connect;
using Cluster.Server.Nodes;

namespace Cluster.Agent.Connect;

/// <summary>What an intention write does to its destination's entry.</summary>
public abstract record EntryChange
{
    private EntryChange()
    {
    }

    /// <summary>Nothing to write (deleting what is not there).</summary>
    public sealed record Unchanged : EntryChange;

    /// <summary>Store this entry in place of the one read.</summary>
    public sealed record Write(ServiceIntentions Entry) : EntryChange;

    /// <summary>Delete the entry read: its last source went.</summary>
    public sealed record Remove : EntryChange;
}

/// <summary>
/// The intention API's writes as pure edits of the destination's entry, as Consul makes them
/// since intentions became config entries: the caller reads the entry, applies one of these and
/// writes the result with a compare-and-set on the index it read, again from the read if another
/// write came first. Refusals are <see cref="InvalidRequestException"/>s (400), nothing written.
/// </summary>
public static class IntentionEdits
{
    /// <summary>The config entry name an entry is stored under: its destination's name, prefixed by a namespace other than the default.</summary>
    public static string StoreName(ServiceName destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return destination.Namespace is "" or IntentionValidation.DefaultNamespace ? destination.Name : $"{destination.Namespace}/{destination.Name}";
    }

    /// <summary>
    /// PUT /v1/connect/intentions/exact: the source is added or replaced. Meta belongs to the entry,
    /// so a body may only carry the entry's meta unchanged (Consul's rule).
    /// </summary>
    public static EntryChange Upsert(ServiceIntentions? current, ServiceName destination, SourceIntention value, IReadOnlyDictionary<string, string> meta)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(meta);
        if (meta.Count > 0 && current is null)
        {
            throw new InvalidRequestException("Meta must not be specified");
        }

        if (meta.Count > 0 && !SameMeta(current!.Meta, meta))
        {
            throw new InvalidRequestException("Meta must not be specified, or should be unchanged during an update.");
        }

        var source = value with { LegacyId = "", LegacyMeta = null, LegacyCreateTime = null, LegacyUpdateTime = null };
        var entry = current is null ? ServiceIntentions.Of(destination, source) : Replace(current, s => Same(s, source), source);
        return new EntryChange.Write(IntentionValidation.Normalize(entry, IntentionWrite.ByName));
    }

    /// <summary>DELETE /v1/connect/intentions/exact: idempotent; the entry goes with its last source.</summary>
    public static EntryChange Delete(ServiceIntentions? current, ServiceName source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (current?.Find(source) is null)
        {
            return new EntryChange.Unchanged();
        }

        var rest = current.Sources.RemoveAll(s => s.Name == source && s.Peer.Length == 0);
        return rest.IsEmpty ? new EntryChange.Remove() : new EntryChange.Write(IntentionValidation.Normalize(current with { Sources = rest }, IntentionWrite.ByName));
    }

    /// <summary>POST /v1/connect/intentions: a new legacy intention, allowed only while every source of the destination is a legacy one.</summary>
    public static EntryChange LegacyCreate(ServiceIntentions? current, ServiceName destination, SourceIntention value)
    {
        ArgumentNullException.ThrowIfNull(value);
        CheckLegacy(current);
        var entry = current is null ? ServiceIntentions.Of(destination, value) : current with { Sources = current.Sources.Add(value) };
        return new EntryChange.Write(IntentionValidation.Normalize(entry, IntentionWrite.Legacy));
    }

    /// <summary>
    /// PUT /v1/connect/intentions/:id: replaces that source, keeping its creation time; its
    /// destination cannot change. Null when the ID is no longer in the entry.
    /// </summary>
    public static EntryChange? LegacyUpdate(ServiceIntentions? current, ServiceName destination, SourceIntention value)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(value);
        var previous = current?.Sources.FirstOrDefault(s => s.LegacyId == value.LegacyId);
        if (previous is null)
        {
            return null;
        }

        if (current!.Destination != destination)
        {
            throw new InvalidRequestException("Cannot modify Destination partition/namespace/name for an intention once it exists.");
        }

        CheckLegacy(current);
        var updated = value with { LegacyCreateTime = previous.LegacyCreateTime ?? value.LegacyCreateTime };
        return new EntryChange.Write(IntentionValidation.Normalize(Replace(current, s => s.LegacyId == value.LegacyId, updated), IntentionWrite.Legacy));
    }

    /// <summary>DELETE /v1/connect/intentions/:id. Null when the ID is no longer in the entry.</summary>
    public static EntryChange? LegacyDelete(ServiceIntentions? current, string id)
    {
        if (current is null || current.Sources.All(s => s.LegacyId != id))
        {
            return null;
        }

        CheckLegacy(current);
        var rest = current.Sources.RemoveAll(s => s.LegacyId == id);
        return rest.IsEmpty ? new EntryChange.Remove() : new EntryChange.Write(IntentionValidation.Normalize(current with { Sources = rest }, IntentionWrite.Legacy));
    }

    // An entry someone wrote by name or as a config entry has sources without IDs the legacy API could never address.
    private static void CheckLegacy(ServiceIntentions? current)
    {
        if (current is not null && !current.AllLegacy)
        {
            throw new InvalidRequestException($"cannot use legacy intention API to edit intentions with a destination of \"{current.Destination}\" after editing them via a service-intentions config entry");
        }
    }

    private static bool Same(SourceIntention a, SourceIntention b) => a.Name == b.Name && a.Peer == b.Peer;

    private static ServiceIntentions Replace(ServiceIntentions entry, Func<SourceIntention, bool> which, SourceIntention with)
    {
        var at = -1;
        for (var i = 0; i < entry.Sources.Length && at < 0; i++)
        {
            at = which(entry.Sources[i]) ? i : -1;
        }

        return entry with { Sources = at < 0 ? entry.Sources.Add(with) : entry.Sources.SetItem(at, with) };
    }

    private static bool SameMeta(ImmutableSortedDictionary<string, string> stored, IReadOnlyDictionary<string, string> sent) =>
        stored.Count == sent.Count && sent.All(p => stored.TryGetValue(p.Key, out var value) && value == p.Value);
}
