using System.Collections.Immutable;
using Cluster.Server.Connect;

namespace Cluster.Agent.Connect;

/// <summary>
/// A <c>service-intentions</c> config entry: every intention towards one destination (Consul keeps
/// intentions this way since 1.9, one entry per destination, each source one intention).
/// </summary>
public sealed record ServiceIntentions(ServiceName Destination, ImmutableSortedDictionary<string, string> Meta, ImmutableArray<SourceIntention> Sources)
{
    public const string Kind = "service-intentions";

    /// <summary>The entry as this destination's first intention.</summary>
    public static ServiceIntentions Of(ServiceName destination, SourceIntention source) =>
        new(destination, ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal), [source]);

    /// <summary>Whether every source was written through the legacy (ID-based) API, which may then keep editing them.</summary>
    public bool AllLegacy => Sources.All(s => s.LegacyId.Length > 0);

    public SourceIntention? Find(ServiceName source, string peer = "") =>
        Sources.FirstOrDefault(s => s.Name == source && s.Peer == peer);
}

/// <summary>One source of a destination's intentions: an L4 action, or L7 permissions for an HTTP proxy.</summary>
public sealed record SourceIntention
{
    public const string ConsulType = "consul";

    /// <summary>The source's namespace and name (either may be "*"); the namespace is filled from the destination's when unset.</summary>
    public required ServiceName Name { get; init; }

    /// <summary>The cluster peer the source lives in; empty for this cluster's own services.</summary>
    public string Peer { get; init; } = "";

    public string SamenessGroup { get; init; } = "";

    /// <summary>"allow" or "deny"; empty when <see cref="Permissions"/> decide instead.</summary>
    public string Action { get; init; } = "";

    public ImmutableArray<IntentionPermission> Permissions { get; init; } = [];

    /// <summary>Computed on every write (Consul's nine levels); what a client sends is ignored.</summary>
    public int Precedence { get; init; }

    public string Type { get; init; } = ConsulType;

    public string Description { get; init; } = "";

    /// <summary>The UUID the legacy intention API gave it; empty for an intention written by name or in a config entry.</summary>
    public string LegacyId { get; init; } = "";

    public ImmutableSortedDictionary<string, string>? LegacyMeta { get; init; }

    public DateTimeOffset? LegacyCreateTime { get; init; }

    public DateTimeOffset? LegacyUpdateTime { get; init; }

    /// <summary>How L4 authorization sees this source: its action, or L7 permissions (a deny for a whole connection).</summary>
    public IntentionAction RuleAction => Permissions.Length > 0 ? IntentionAction.L7Permissions
        : Action == IntentionActions.Allow ? IntentionAction.Allow : IntentionAction.Deny;
}

/// <summary>One L7 rule of an intention: an HTTP match and what to do with requests that match it.</summary>
public sealed record IntentionPermission(string Action, HttpMatch? Http);

/// <summary>What an HTTP request must look like: at most one path rule, headers, methods.</summary>
public sealed record HttpMatch(string PathExact, string PathPrefix, string PathRegex, ImmutableArray<HeaderMatch> Headers, ImmutableArray<string> Methods);

/// <summary>One header test: exactly one of Present, Exact, Prefix, Suffix or Regex; Invert negates it.</summary>
public sealed record HeaderMatch(string Name, bool Present, string Exact, string Prefix, string Suffix, string Regex, bool Invert);

public static class IntentionActions
{
    public const string Allow = "allow";
    public const string Deny = "deny";
}
