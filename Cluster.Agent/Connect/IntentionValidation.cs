using System.Collections.Immutable;
using System.Text;
using System.Text.RegularExpressions;
using Cluster.Server.Connect;
using Cluster.Server.Nodes;

namespace Cluster.Agent.Connect;

/// <summary>How an entry is being written, which decides what happens to the legacy (ID-based) fields.</summary>
public enum IntentionWrite
{
    /// <summary>A config entry write or an intention written by name: legacy IDs and times are dropped, legacy meta refused (as Consul).</summary>
    ByName,

    /// <summary>The legacy ID-based API: every source carries its ID, times and meta; the entry has no meta of its own.</summary>
    Legacy,
}

/// <summary>
/// Consul's normalisation and validation of a service-intentions entry, pure: fill the sources'
/// namespaces, default types, upper-case methods, compute each source's precedence and order the
/// sources by it; then refuse anything Consul refuses, with its wording, as a 400. Regular
/// expressions must compile for a non-backtracking engine, so none can hang an agent or a proxy.
/// </summary>
public static class IntentionValidation
{
    public const string DefaultNamespace = "default";

    /// <summary>Consul's limits on config entry meta and on an intention's description, in UTF-8 bytes as Go counts them.</summary>
    public const int MetaMaxPairs = 64;

    public const int MetaKeyMaxLength = 128;

    public const int MetaValueMaxLength = 512;

    /// <summary>Longer patterns are refused outright: a regex is for a path or a header, not a program.</summary>
    public const int RegexMaxLength = 1024;

    private static readonly HashSet<string> HttpMethods = new(StringComparer.Ordinal) { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE" };

    /// <summary>The namespace a source without one gets: the destination's, unless that is the wildcard.</summary>
    public static string InheritedNamespace(ServiceName destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return destination.Namespace is "" or ServiceName.Wildcard ? DefaultNamespace : destination.Namespace;
    }

    /// <summary>
    /// A stored entry as read back: the namespaces its stored form leaves out filled in again;
    /// nothing else changes (it was normalised when written).
    /// </summary>
    public static ServiceIntentions WithNamespaces(ServiceIntentions entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var destination = entry.Destination with { Namespace = entry.Destination.Namespace.Length == 0 ? DefaultNamespace : entry.Destination.Namespace };
        var inherited = InheritedNamespace(destination);

        // A peer's source never inherits the destination's namespace: it names another cluster's.
        return entry with
        {
            Destination = destination,
            Sources = [.. entry.Sources.Select(s => s.Name.Namespace.Length > 0 ? s : s with { Name = s.Name with { Namespace = s.Peer.Length > 0 ? DefaultNamespace : inherited } })],
        };
    }

    /// <summary>The entry as it is stored, or <see cref="InvalidRequestException"/> naming the first problem.</summary>
    public static ServiceIntentions Normalize(ServiceIntentions entry, IntentionWrite mode)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var filled = WithNamespaces(entry);
        var destination = filled.Destination;
        var sources = filled.Sources.Select(source =>
        {
            var name = source.Name;
            var normalized = source with
            {
                Type = source.Type.Length == 0 ? SourceIntention.ConsulType : source.Type,
                Permissions = [.. source.Permissions.Select(UpperMethods)],
                Precedence = Valid(name, destination) ? IntentionRules.Precedence(name, destination) : 0,
                LegacyMeta = mode == IntentionWrite.Legacy ? source.LegacyMeta ?? ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal) : source.LegacyMeta,
            };

            // A write by name turns every intention of the entry into a config-entry one (Consul's
            // normalize): the IDs and times go; legacy meta stays only to be refused below.
            return mode == IntentionWrite.Legacy ? normalized : normalized with { LegacyId = "", LegacyCreateTime = null, LegacyUpdateTime = null };
        });

        // Highest precedence first; equal ones keep their written order (a stable sort).
        var result = entry with { Destination = destination, Sources = [.. sources.OrderByDescending(s => s.Precedence)] };
        Validate(result, mode);
        return result;
    }

    private static void Validate(ServiceIntentions entry, IntentionWrite mode)
    {
        var destination = entry.Destination;
        if (destination.Name.Length == 0)
        {
            throw Bad("Name is required");
        }

        Wildcards(destination, "");
        if (mode == IntentionWrite.Legacy && entry.Meta.Count > 0)
        {
            throw Bad("Meta must be omitted for legacy intention writes");
        }

        Meta(entry.Meta, "Meta");
        if (entry.Sources.Length == 0)
        {
            throw Bad("At least one source is required");
        }

        var wildDestination = destination.Namespace == ServiceName.Wildcard || destination.Name == ServiceName.Wildcard;
        var seen = new HashSet<(string Peer, ServiceName Name)>();
        for (var i = 0; i < entry.Sources.Length; i++)
        {
            var source = entry.Sources[i];
            var at = $"Sources[{i}]";
            if (source.Name.Name.Length == 0)
            {
                throw Bad($"{at}.Name is required");
            }

            if (source.SamenessGroup.Length > 0)
            {
                throw Bad($"{at}.SamenessGroup: sameness groups are not supported");
            }

            Wildcards(source.Name, at + ".");
            if (source.Peer.Contains('*', StringComparison.Ordinal))
            {
                throw Bad($"{at}.Peer: cannot use wildcard '*' in peer");
            }

            if (Encoding.UTF8.GetByteCount(source.Description) > MetaValueMaxLength)
            {
                throw Bad($"{at}.Description exceeds maximum length {MetaValueMaxLength}");
            }

            Legacy(source, at, mode);
            if (source.Permissions.Length == 0 && source.Action is not (IntentionActions.Allow or IntentionActions.Deny))
            {
                throw Bad($"{at}.Action must be set to 'allow' or 'deny'");
            }

            if (source.Permissions.Length > 0 && source.Action.Length > 0)
            {
                throw Bad($"{at}.Action must be omitted if Permissions are specified");
            }

            if (wildDestination && source.Permissions.Length > 0)
            {
                throw Bad($"{at}.Permissions cannot be specified on intentions with wildcarded destinations");
            }

            if (source.Type != SourceIntention.ConsulType)
            {
                throw Bad($"{at}.Type must be set to 'consul'");
            }

            for (var j = 0; j < source.Permissions.Length; j++)
            {
                Permission(source.Permissions[j], $"{at}.Permissions[{j}]");
            }

            if (!seen.Add((source.Peer, source.Name)))
            {
                throw Bad(source.Peer.Length > 0
                    ? $"{at} defines peer(\"{source.Peer}\") \"{source.Name}\" more than once"
                    : $"{at} defines \"{source.Name}\" more than once");
            }
        }
    }

    private static void Legacy(SourceIntention source, string at, IntentionWrite mode)
    {
        if (mode == IntentionWrite.ByName)
        {
            if (source.LegacyMeta is { Count: > 0 })
            {
                throw Bad($"{at}.LegacyMeta must be omitted");
            }

            return;
        }

        if (source.Peer.Length > 0)
        {
            throw Bad($"{at}.Peer cannot be set by legacy intentions");
        }

        Meta(source.LegacyMeta!, $"{at}.Meta");
        if (source.LegacyId.Length == 0)
        {
            throw Bad($"{at}.LegacyID must be set");
        }

        if (source.LegacyCreateTime is null || source.LegacyUpdateTime is null)
        {
            throw Bad($"{at}.{(source.LegacyCreateTime is null ? "LegacyCreateTime" : "LegacyUpdateTime")} must be set");
        }
    }

    private static void Permission(IntentionPermission permission, string at)
    {
        if (permission.Action is not (IntentionActions.Allow or IntentionActions.Deny))
        {
            throw Bad($"{at}.Action must be set to 'allow' or 'deny'");
        }

        if (permission.Http is not { } http)
        {
            throw Bad($"{at}.HTTP is required");
        }

        at += ".HTTP";
        var paths = 0;
        foreach (var (field, value, mustBeAbsolute) in new[] { ("PathExact", http.PathExact, true), ("PathPrefix", http.PathPrefix, true), ("PathRegex", http.PathRegex, false) })
        {
            if (value.Length == 0)
            {
                continue;
            }

            paths++;
            if (mustBeAbsolute && !value.StartsWith('/'))
            {
                throw Bad($"{at}.{field} doesn't start with '/': \"{value}\"");
            }
        }

        if (paths > 1)
        {
            throw Bad($"{at} should only contain at most one of PathExact, PathPrefix, or PathRegex");
        }

        Regex(http.PathRegex, $"{at}.PathRegex");
        for (var k = 0; k < http.Headers.Length; k++)
        {
            var header = http.Headers[k];
            if (header.Name.Length == 0)
            {
                throw Bad($"{at}.Header[{k}] missing required Name field");
            }

            var tests = (header.Present ? 1 : 0) + new[] { header.Exact, header.Prefix, header.Suffix, header.Regex }.Count(v => v.Length > 0);
            if (tests != 1)
            {
                throw Bad($"{at}.Header[{k}] should only contain one of Present, Exact, Prefix, Suffix, or Regex");
            }

            Regex(header.Regex, $"{at}.Header[{k}].Regex");
        }

        var methods = new HashSet<string>(StringComparer.Ordinal);
        foreach (var method in http.Methods)
        {
            if (!HttpMethods.Contains(method))
            {
                throw Bad($"{at}.Methods contains an invalid method \"{method}\"");
            }

            if (!methods.Add(method))
            {
                throw Bad($"{at}.Methods contains \"{method}\" more than once");
            }
        }

        if (paths + http.Headers.Length + http.Methods.Length == 0)
        {
            throw Bad($"{at} should not be empty");
        }
    }

    /// <summary>
    /// A path or header regex must compile for .NET's non-backtracking engine (linear time, no
    /// backreferences or lookarounds: the RE2 family Envoy uses), so a hostile pattern is refused
    /// at the door instead of hanging whoever evaluates it later.
    /// </summary>
    private static void Regex(string pattern, string at)
    {
        if (pattern.Length == 0)
        {
            return;
        }

        if (pattern.Length > RegexMaxLength)
        {
            throw Bad($"{at} is longer than {RegexMaxLength} characters");
        }

        try
        {
            _ = new Regex(pattern, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw Bad($"{at} is not a valid regular expression: {e.Message}");
        }
    }

    private static void Wildcards(ServiceName name, string at)
    {
        if (name.Namespace != ServiceName.Wildcard && name.Namespace.Contains('*', StringComparison.Ordinal))
        {
            throw Bad($"{at}Namespace: wildcard character '*' cannot be used with partial values");
        }

        if (name.Name != ServiceName.Wildcard && name.Name.Contains('*', StringComparison.Ordinal))
        {
            throw Bad($"{at}Name: wildcard character '*' cannot be used with partial values");
        }

        if (!Valid(name, name))
        {
            throw Bad($"{at}Name: exact value cannot follow wildcard namespace");
        }
    }

    // IntentionRules.Invalid is the one place that knows which shapes cannot stand.
    private static bool Valid(ServiceName source, ServiceName destination) => IntentionRules.Invalid(source, destination) is null;

    private static void Meta(ImmutableSortedDictionary<string, string> meta, string at)
    {
        if (meta.Count > MetaMaxPairs)
        {
            throw Bad($"{at} exceeds maximum element count {MetaMaxPairs}");
        }

        foreach (var (key, value) in meta)
        {
            if (Encoding.UTF8.GetByteCount(key) > MetaKeyMaxLength)
            {
                throw Bad($"{at} key \"{key}\" exceeds maximum length {MetaKeyMaxLength}");
            }

            if (Encoding.UTF8.GetByteCount(value) > MetaValueMaxLength)
            {
                throw Bad($"{at} value for key \"{key}\" exceeds maximum length {MetaValueMaxLength}");
            }
        }
    }

    private static IntentionPermission UpperMethods(IntentionPermission permission) =>
        permission.Http is { } http ? permission with { Http = http with { Methods = [.. http.Methods.Select(m => m.ToUpperInvariant())] } } : permission;

    private static InvalidRequestException Bad(string problem) => new(problem);
}
