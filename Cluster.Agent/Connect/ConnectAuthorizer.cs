using Cluster.Server.Connect;
using Cluster.Server.Nodes;

namespace Cluster.Agent.Connect;

/// <summary>A proxy's question (POST /v1/agent/connect/authorize): may the holder of this client certificate connect to the target?</summary>
public sealed record AuthorizeRequest(string Target, string TargetNamespace, string ClientCertUri, string ClientCertSerial)
{
    public ServiceName Destination => new(TargetNamespace.Length == 0 ? IntentionValidation.DefaultNamespace : TargetNamespace, Target);
}

/// <summary>
/// The decision /v1/agent/connect/authorize makes, pure: the client certificate's URI must be a
/// SPIFFE service identity (otherwise the request itself is bad: 400, as Consul), from this
/// cluster's trust domain when that is known, and then the intentions decide.
/// </summary>
public static class ConnectAuthorizer
{
    public const string ExternalTrustDomain = "Identity from an external trust domain";

    /// <summary>The client's identity, or <see cref="InvalidRequestException"/> (400) for a request that names none.</summary>
    public static SpiffeId Identify(AuthorizeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Target.Length == 0)
        {
            throw new InvalidRequestException("Target service must be specified");
        }

        if (request.Target.Contains('*', StringComparison.Ordinal) || request.TargetNamespace.Contains('*', StringComparison.Ordinal))
        {
            throw new InvalidRequestException("Target service must be a service name, not a wildcard");
        }

        if (SpiffeId.TryParse(request.ClientCertUri, out var identity))
        {
            return identity;
        }

        // Consul tells a URI that is no Connect identity at all from one naming something other than a service.
        throw new InvalidRequestException(NamesOtherIdentity(request.ClientCertUri)
            ? "ClientCertURI not a valid Service identifier"
            : "ClientCertURI not a valid Connect identifier");
    }

    /// <summary>
    /// Whether <paramref name="identity"/> may connect to <paramref name="destination"/>. The trust
    /// domain is this cluster's (<c>&lt;cluster-id&gt;.consul</c>), or null while unknown, when it is not checked.
    /// </summary>
    public static Authorization Decide(IntentionIndex index, SpiffeId identity, ServiceName destination, string? trustDomain, IntentionDefault fallback)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(identity);

        // Trust domains are host names: compared without regard to case.
        return trustDomain is not null && !string.Equals(identity.TrustDomain, trustDomain, StringComparison.OrdinalIgnoreCase)
            ? new(false, ExternalTrustDomain, null)
            : index.Authorize(new ServiceName(identity.Namespace, identity.Service), destination, fallback);
    }

    /// <summary>A SPIFFE URI in one of Consul's other identity shapes (agents, gateways, partitioned or malformed services).</summary>
    private static bool NamesOtherIdentity(string uri)
    {
        const string prefix = SpiffeId.Scheme + "://";
        if (!uri.StartsWith(prefix, StringComparison.Ordinal) || uri.IndexOf('/', prefix.Length) is not (> 0 and var slash))
        {
            return false;
        }

        var path = uri[(slash + 1)..];
        return path.StartsWith("agent/", StringComparison.Ordinal) || path.StartsWith("gateway/", StringComparison.Ordinal)
            || path.StartsWith("ns/", StringComparison.Ordinal) || path.StartsWith("ap/", StringComparison.Ordinal);
    }

    /// <summary>Both steps, for callers that already hold an index.</summary>
    public static Authorization Authorize(IntentionIndex index, AuthorizeRequest request, string? trustDomain, IntentionDefault fallback)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Decide(index, Identify(request), request.Destination, trustDomain, fallback);
    }
}
