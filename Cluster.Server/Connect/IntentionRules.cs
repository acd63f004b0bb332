namespace Cluster.Server.Connect;

/// <summary>A service named in an intention or a connection: namespace and name, either of which may be the wildcard "*".</summary>
public sealed record ServiceName(string Namespace, string Name)
{
    public const string Wildcard = "*";

    public static ServiceName Default(string name) => new("default", name);

    public bool Matches(ServiceName concrete) =>
        (Namespace == Wildcard || Namespace == concrete.Namespace) && (Name == Wildcard || Name == concrete.Name);

    public override string ToString() => Namespace == "default" ? Name : $"{Namespace}/{Name}";
}

/// <summary>
/// One intention as L4 authorization sees it: source and destination, and its action. An intention
/// with L7 permissions instead of an action decides HTTP requests in the proxy; asked about a
/// whole connection it counts as deny (as Consul's /v1/agent/connect/authorize does), so an
/// L7 deny can never fail open at L4 (CVE-2021-36213's class).
/// </summary>
public sealed record IntentionRule(ServiceName Source, ServiceName Destination, IntentionAction Action);

public enum IntentionAction
{
    Allow,
    Deny,
    L7Permissions,
}

/// <summary>The outcome of authorizing a connection, with Consul's kind of reason.</summary>
public sealed record Authorization(bool Authorized, string Reason, IntentionRule? Matched);

/// <summary>
/// What decides a connection no intention matches. The one seam the ACL system will own: with
/// ACLs it is their default policy; without ACLs (all we have yet) Consul allows everything.
/// </summary>
public sealed record IntentionDefault(bool Allow, string Reason)
{
    /// <summary>Consul's answer when ACLs are disabled: everything no intention denies is allowed.</summary>
    public static readonly IntentionDefault AclsDisabled = new(true, "ACLs disabled, access is allowed by default");

    public static IntentionDefault FromAcls(bool allow) => new(allow, "Default behavior configured by ACLs");
}

/// <summary>
/// Consul's intention semantics, as pure functions: the nine-level precedence (exact beats
/// wildcard, destination before source, namespace before name), deny wins between equals, and the
/// default policy when nothing matches.
/// </summary>
public static class IntentionRules
{
    /// <summary>
    /// The precedence of an intention (9 highest): by (source ns, source name → destination ns,
    /// destination name), e = exact, * = wildcard: 9 eeee, 8 e*ee, 7 **ee, 6 eee*, 5 e*e*, 4 **e*,
    /// 3 ee**, 2 e***, 1 ****. 0 for a shape Consul refuses (an exact name under a wildcard namespace).
    /// </summary>
    public static int Precedence(ServiceName source, ServiceName destination)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        var sourceRank = Rank(source);
        var destinationRank = Rank(destination);
        return sourceRank < 0 || destinationRank < 0 ? 0 : (destinationRank * 3) + sourceRank + 1;
    }

    /// <summary>Why an intention's names cannot stand, or null when they can.</summary>
    public static string? Invalid(ServiceName source, ServiceName destination)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        foreach (var (side, name) in new[] { ("source", source), ("destination", destination) })
        {
            if (name.Namespace.Length == 0 || name.Name.Length == 0)
            {
                return $"the {side} needs a namespace and a name";
            }

            if (Rank(name) < 0)
            {
                return $"the {side} \"{name.Namespace}/{name.Name}\" has an exact name under a wildcard namespace";
            }
        }

        return null;
    }

    /// <summary>
    /// Whether <paramref name="source"/> may connect to <paramref name="destination"/>: the
    /// matching intention of highest precedence decides (deny first among equals); none matching,
    /// the default policy does.
    /// </summary>
    public static Authorization Authorize(IEnumerable<IntentionRule> intentions, ServiceName source, ServiceName destination, bool defaultAllow) =>
        Authorize(intentions, source, destination, IntentionDefault.FromAcls(defaultAllow));

    /// <inheritdoc cref="Authorize(IEnumerable{IntentionRule}, ServiceName, ServiceName, bool)"/>
    public static Authorization Authorize(IEnumerable<IntentionRule> intentions, ServiceName source, ServiceName destination, IntentionDefault fallback)
    {
        ArgumentNullException.ThrowIfNull(intentions);
        ArgumentNullException.ThrowIfNull(fallback);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        IntentionRule? best = null;
        var bestPrecedence = 0;
        foreach (var rule in intentions)
        {
            if (!rule.Source.Matches(source) || !rule.Destination.Matches(destination))
            {
                continue;
            }

            var precedence = Precedence(rule.Source, rule.Destination);
            if (precedence > bestPrecedence || (precedence == bestPrecedence && precedence > 0 && Denies(rule) && !Denies(best!)))
            {
                best = rule;
                bestPrecedence = precedence;
            }
        }

        return best is null ? new(fallback.Allow, fallback.Reason, null) : Decide(best);
    }

    /// <summary>The decision a matched intention makes for a whole connection: an L7 one denies it.</summary>
    public static Authorization Decide(IntentionRule matched)
    {
        ArgumentNullException.ThrowIfNull(matched);
        return matched.Action switch
        {
            IntentionAction.Allow => new(true, $"Matched L4 intention: {matched.Source} => {matched.Destination} (allow)", matched),
            IntentionAction.Deny => new(false, $"Matched L4 intention: {matched.Source} => {matched.Destination} (deny)", matched),
            _ => new(false, $"Matched L7 intention: {matched.Source} => {matched.Destination} (L7 permissions, which only an HTTP proxy can apply: deny for a connection)", matched),
        };
    }

    private static bool Denies(IntentionRule rule) => rule.Action != IntentionAction.Allow;

    /// <summary>2 exact namespace and name, 1 exact namespace and any name, 0 any; -1 an exact name under any namespace.</summary>
    private static int Rank(ServiceName name) => (name.Namespace == ServiceName.Wildcard, name.Name == ServiceName.Wildcard) switch
    {
        (false, false) => 2,
        (false, true) => 1,
        (true, true) => 0,
        _ => -1,
    };
}
