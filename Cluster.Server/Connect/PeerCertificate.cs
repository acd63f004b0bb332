using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Cluster.Server.Connect;

/// <summary>What a peer's certificate proved: whether it is trusted, why not, and the identity it carries.</summary>
public sealed record PeerVerdict(bool Trusted, string Reason, SpiffeId? Identity);

/// <summary>
/// How a mesh peer is checked at a TLS handshake (by our proxies, and by the tests): its chain
/// must reach one of the trusted roots at the given time (intermediates from the peer's own
/// chain, such as a rotation's cross-signed root), the leaf must be a TLS leaf, and its single
/// URI SAN must be exactly the identity expected. A valid certificate of another service is
/// refused: the upstream's identity is checked, not only the CA (CVE-2021-32574's class).
/// </summary>
public static class PeerCertificate
{
    private const string SanOid = "2.5.29.17";

    public static PeerVerdict Verify(string chainPem, IEnumerable<string> trustedRootPems, SpiffeId expected, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(trustedRootPems);
        ArgumentNullException.ThrowIfNull(expected);
        X509Certificate2Collection presented;
        try
        {
            presented = [];
            presented.ImportFromPem(chainPem);
        }
        catch (CryptographicException e)
        {
            return new(false, $"the peer's certificate chain cannot be read: {e.Message}", null);
        }

        if (presented.Count == 0)
        {
            return new(false, "the peer presented no certificate", null);
        }

        using var leaf = presented[0];
        var identity = SingleUri(leaf);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = at.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        foreach (var root in trustedRootPems)
        {
            chain.ChainPolicy.CustomTrustStore.Add(X509Certificate2.CreateFromPem(root));
        }

        for (var i = 1; i < presented.Count; i++)
        {
            chain.ChainPolicy.ExtraStore.Add(presented[i]);
        }

        try
        {
            bool built;
            try
            {
                built = chain.Build(leaf);
            }
            catch (CryptographicException e)
            {
                // A certificate that parses but that OpenSSL cannot process (found by the fuzz test).
                return new(false, $"the peer's certificate cannot be verified: {e.Message}", identity);
            }

            if (!built)
            {
                var why = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
                return new(false, $"the peer's certificate does not chain to a trusted root: {why}", identity);
            }

            if (leaf.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority))
            {
                return new(false, "the peer presented a CA certificate, not a leaf", identity);
            }

            if (identity is null)
            {
                return new(false, "the peer's certificate does not carry exactly one SPIFFE service URI", null);
            }

            return identity == expected
                ? new(true, $"verified {identity}", identity)
                : new(false, $"the peer is {identity}, not the expected {expected}", identity);
        }
        finally
        {
            foreach (var element in chain.ChainElements)
            {
                if (!ReferenceEquals(element.Certificate, leaf))
                {
                    element.Certificate.Dispose();
                }
            }

            foreach (var extra in chain.ChainPolicy.CustomTrustStore.Concat(chain.ChainPolicy.ExtraStore))
            {
                extra.Dispose();
            }
        }
    }

    private static SpiffeId? SingleUri(X509Certificate2 leaf)
    {
        var uris = new List<string>();
        foreach (var extension in leaf.Extensions.Where(e => e.Oid?.Value == SanOid))
        {
            try
            {
                uris.AddRange(CertificateAuthority.UriSans(extension.RawData));
            }
            catch (AsnContentException)
            {
                return null;
            }
        }

        return uris.Count == 1 && SpiffeId.TryParse(uris[0], out var id) ? id : null;
    }
}
