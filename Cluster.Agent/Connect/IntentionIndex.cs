using System.Collections.Frozen;
using Cluster.Server.Connect;

namespace Cluster.Agent.Connect;

/// <summary>
/// The L4 intentions of a cluster, immutable, keyed by (destination, source) as written. A
/// connection can only match nine shapes (exact, <c>ns/*</c> or <c>*/*</c> on each side) and they
/// rank in precedence order, so authorizing is at most nine lookups whatever the number of
/// intentions, and the first hit decides (Consul's precedence, with no scan of the rest).
/// </summary>
public sealed class IntentionIndex
{
    private static readonly ServiceName Anything = new(ServiceName.Wildcard, ServiceName.Wildcard);

    private readonly FrozenDictionary<(ServiceName Destination, ServiceName Source), IntentionRule> _rules;
    private readonly FrozenSet<string> _unreadable;

    private IntentionIndex(FrozenDictionary<(ServiceName, ServiceName), IntentionRule> rules, FrozenSet<string> unreadable, ulong index)
    {
        _rules = rules;
        _unreadable = unreadable;
        Index = index;
    }

    public static IntentionIndex Empty { get; } = Build([], 0);

    /// <summary>The Raft index the intentions are current as of.</summary>
    public ulong Index { get; }

    public int Count => _rules.Count;

    /// <summary>
    /// The index of <paramref name="rules"/>. Two rules for one pair cannot come from valid entries;
    /// if they did, the denying one is kept, as deny wins between equals. <paramref name="unreadable"/>
    /// names destinations whose stored entry could not be read: connections to them are refused, so a
    /// deny nobody could read never turns into an allow.
    /// </summary>
    public static IntentionIndex Build(IEnumerable<IntentionRule> rules, ulong index, IEnumerable<string>? unreadable = null)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var byPair = new Dictionary<(ServiceName, ServiceName), IntentionRule>();
        foreach (var rule in rules)
        {
            var key = (rule.Destination, rule.Source);
            if (!byPair.TryGetValue(key, out var existing) || (existing.Action == IntentionAction.Allow && rule.Action != IntentionAction.Allow))
            {
                byPair[key] = rule;
            }
        }

        // By name only (a store name is [namespace/]name): refusing too much beats allowing what a lost deny forbade.
        var names = (unreadable ?? []).Select(n => n[(n.LastIndexOf('/') + 1)..]);
        return new IntentionIndex(byPair.ToFrozenDictionary(), names.ToFrozenSet(StringComparer.Ordinal), index);
    }

    /// <summary>Whether <paramref name="source"/> may open a connection to <paramref name="destination"/> (both concrete names).</summary>
    public Authorization Authorize(ServiceName source, ServiceName destination, IntentionDefault fallback)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(fallback);
        if (_unreadable.Count > 0 && (_unreadable.Contains(destination.Name) || _unreadable.Contains(ServiceName.Wildcard)))
        {
            return new(false, $"Intentions for {destination} could not be read: deny", null);
        }

        // Destination shapes outrank source shapes (precedence = 3 × destination rank + source rank + 1),
        // so this order visits the nine levels from 9 down to 1.
        var anyOfDestination = new ServiceName(destination.Namespace, ServiceName.Wildcard);
        var anyOfSource = new ServiceName(source.Namespace, ServiceName.Wildcard);
        foreach (var to in (ReadOnlySpan<ServiceName>)[destination, anyOfDestination, Anything])
        {
            foreach (var from in (ReadOnlySpan<ServiceName>)[source, anyOfSource, Anything])
            {
                if (_rules.TryGetValue((to, from), out var rule))
                {
                    return IntentionRules.Decide(rule);
                }
            }
        }

        return new(fallback.Allow, fallback.Reason, null);
    }
}
