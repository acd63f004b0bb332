using System.Diagnostics.CodeAnalysis;

namespace Cluster.Server.Connect;

/// <summary>
/// A service's identity in the mesh: <c>spiffe://&lt;trust-domain&gt;/ns/&lt;ns&gt;/dc/&lt;dc&gt;/svc/&lt;service&gt;</c>,
/// as Consul writes it into the one URI SAN of every leaf. Parsing is strict: exactly that
/// shape, no query, fragment, port, user info or empty part, so two spellings never name one
/// identity and a certificate cannot smuggle a second one past a check.
/// </summary>
public sealed record SpiffeId(string TrustDomain, string Namespace, string Datacenter, string Service)
{
    public const string Scheme = "spiffe";

    /// <summary>The trust domain of a cluster: <c>&lt;cluster-id&gt;.consul</c>.</summary>
    public static string TrustDomainOf(string clusterId) => $"{clusterId}.consul";

    public override string ToString() => $"{Scheme}://{TrustDomain}/ns/{Namespace}/dc/{Datacenter}/svc/{Service}";

    public Uri ToUri() => new(ToString());

    public static bool TryParse(string? text, [NotNullWhen(true)] out SpiffeId? id)
    {
        id = null;
        const string prefix = Scheme + "://";
        if (text is null || !text.StartsWith(prefix, StringComparison.Ordinal) || text.Length > 2048)
        {
            return false;
        }

        var rest = text[prefix.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
        {
            return false;
        }

        var host = rest[..slash];
        var parts = rest[(slash + 1)..].Split('/');
        if (!IsName(host, allowDots: true, allowUpper: false) || parts is not ["ns", var ns, "dc", var dc, "svc", var svc]
            || !IsName(ns, allowDots: false, allowUpper: false) || !IsName(dc, allowDots: false, allowUpper: false) || !IsName(svc, allowDots: true, allowUpper: true))
        {
            return false;
        }

        id = new SpiffeId(host, ns, dc, svc);
        return true;
    }

    /// <summary>Letters, digits, '-' and '_' (and '.' where a name may hold it): nothing a URI would escape or reinterpret. Service names keep their case, as Consul's do.</summary>
    private static bool IsName(string part, bool allowDots, bool allowUpper) =>
        part.Length is > 0 and <= 253
        && part.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' || (allowUpper && c is >= 'A' and <= 'Z') || (allowDots && c == '.'))
        && !part.StartsWith('.') && !part.EndsWith('.') && !part.Contains("..", StringComparison.Ordinal);
}
