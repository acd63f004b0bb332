using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cluster.Server.Connect;

namespace Cluster.Tests.Connect;

/// <summary>The built-in CA's certificate work, checked by openssl and against the CSR attacks Consul has had.</summary>
public sealed class CertificateAuthorityTests
{
    private const string TrustDomain = "11111111-2222-3333-4444-555555555555.consul";
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
    private static readonly SpiffeId Web = new(TrustDomain, "default", "dc1", "web");

    private static byte[] Serial(int n) => [0x01, (byte)(n >> 8), (byte)n];

    private static string Csr(params Uri[] uris) => Csr(ECDsa.Create(ECCurve.NamedCurves.nistP256), uris);

    private static string Csr(AsymmetricAlgorithm key, params Uri[] uris)
    {
        var request = key is RSA rsa
            ? new CertificateRequest("CN=web", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest("CN=web", (ECDsa)key, HashAlgorithmName.SHA256);
        if (uris.Length > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var uri in uris)
            {
                san.AddUri(uri);
            }

            request.CertificateExtensions.Add(san.Build());
        }

        return request.CreateSigningRequestPem();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2048)]
    public void A_leaf_verifies_against_its_root_with_openssl_and_carries_only_its_identity(int rsaBits)
    {
        var ca = CertificateAuthority.CreateRoot(TrustDomain, Now, TimeSpan.FromDays(3650), Serial(1), rsaBits);
        var leafPem = CertificateAuthority.SignLeaf(ca, Csr(Web.ToUri()), Web, Now, TimeSpan.FromHours(72), Serial(2));

        Assert.Equal("OK", OpensslVerify(ca.CertificatePem, leafPem));
        using var leaf = X509Certificate2.CreateFromPem(leafPem);
        Assert.False(leaf.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        var usages = leaf.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value).ToList();
        Assert.Equal(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"], usages);
        Assert.Contains($"URI:{Web}", Openssl(["x509", "-noout", "-ext", "subjectAltName"], leafPem), StringComparison.Ordinal);
        Assert.Equal(Now.AddHours(72).UtcDateTime, leaf.NotAfter.ToUniversalTime());
    }

    [Fact]
    public void A_new_root_cross_signed_by_the_old_key_lets_old_root_holders_verify_new_leaves()
    {
        var oldCa = CertificateAuthority.CreateRoot(TrustDomain, Now, TimeSpan.FromDays(3650), Serial(1));
        var newCa = CertificateAuthority.CreateRoot(TrustDomain, Now.AddDays(30), TimeSpan.FromDays(3650), Serial(2));
        var cross = CertificateAuthority.CrossSign(oldCa, newCa.CertificatePem, Now.AddDays(30), Serial(3));
        var leaf = CertificateAuthority.SignLeaf(newCa, Csr(Web.ToUri()), Web, Now.AddDays(30), TimeSpan.FromHours(72), Serial(4));

        var at = Now.AddDays(30).AddHours(1);
        Assert.Equal("OK", OpensslVerify(newCa.CertificatePem, leaf, at: at));
        Assert.Equal("OK", OpensslVerify(oldCa.CertificatePem, leaf, untrusted: cross, at: at)); // a peer with only the old root
        Assert.NotEqual("OK", OpensslVerify(oldCa.CertificatePem, leaf, at: at)); // and only through the cross-signed cert
    }

    public static TheoryData<string, Func<string>, string> Refusals => new()
    {
        { "no SAN", () => Csr(), "no subject alternative names" },
        // CVE-2022-40716: one URI checked, another one used by the peer.
        { "two URI SANs", () => Csr(Web.ToUri(), (Web with { Service = "db" }).ToUri()), "exactly one URI SAN, not 2" },
        { "a foreign trust domain", () => Csr((Web with { TrustDomain = "evil.consul" }).ToUri()), "not in this cluster's trust domain" },
        { "another service", () => Csr((Web with { Service = "db" }).ToUri()), "not the requesting service's" },
        { "another datacenter", () => Csr((Web with { Datacenter = "dc2" }).ToUri()), "not the requesting service's" },
        { "not a SPIFFE service ID", () => Csr(new Uri($"spiffe://{TrustDomain}/agent/client/dc/dc1/id/x")), "is not a SPIFFE service ID" },
        { "an RSA key", () => Csr(RSA.Create(2048), Web.ToUri()), "EC P-256" },
        { "a P-384 key", () => Csr(ECDsa.Create(ECCurve.NamedCurves.nistP384), Web.ToUri()), "EC P-256" },
        { "not PEM", () => "hello", "not a PEM" },
        { "a truncated PEM", () => Csr(Web.ToUri())[..120] + "\n-----END CERTIFICATE REQUEST-----", "cannot be read" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void A_bad_csr_is_refused_with_its_reason(string name, Func<string> csr, string reason)
    {
        _ = name;
        var ca = CertificateAuthority.CreateRoot(TrustDomain, Now, TimeSpan.FromDays(3650), Serial(1));
        var refused = Assert.Throws<CsrException>(() => CertificateAuthority.SignLeaf(ca, csr(), Web, Now, TimeSpan.FromHours(72), Serial(2)));
        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_csr_whose_signature_does_not_match_its_key_is_refused()
    {
        var pem = Csr(Web.ToUri());
        var der = Convert.FromBase64String(string.Concat(pem.Split('\n').Where(l => !l.StartsWith("-----", StringComparison.Ordinal))));
        der[^5] ^= 0x55; // inside the signature
        var forged = "-----BEGIN CERTIFICATE REQUEST-----\n" + Convert.ToBase64String(der, Base64FormattingOptions.InsertLineBreaks) + "\n-----END CERTIFICATE REQUEST-----\n";
        var ca = CertificateAuthority.CreateRoot(TrustDomain, Now, TimeSpan.FromDays(3650), Serial(1));
        Assert.Throws<CsrException>(() => CertificateAuthority.SignLeaf(ca, forged, Web, Now, TimeSpan.FromHours(72), Serial(2)));
    }

    /// <summary>Seeded mutations of a good CSR: each is signed for its service or refused with a CsrException, never anything else.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Mutated_csrs_are_signed_as_they_are_or_refused_never_thrown_otherwise(int seed)
    {
        var random = new Random(seed);
        var ca = CertificateAuthority.CreateRoot(TrustDomain, Now, TimeSpan.FromDays(3650), Serial(1));
        var pem = Csr(Web.ToUri());
        var der = Convert.FromBase64String(string.Concat(pem.Split('\n').Where(l => !l.StartsWith("-----", StringComparison.Ordinal))));
        for (var i = 0; i < 300; i++)
        {
            var mutated = (byte[])der.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
            }

            if (random.Next(4) == 0)
            {
                mutated = mutated[..random.Next(mutated.Length)];
            }

            var text = "-----BEGIN CERTIFICATE REQUEST-----\n" + Convert.ToBase64String(mutated) + "\n-----END CERTIFICATE REQUEST-----\n";
            try
            {
                var leaf = CertificateAuthority.SignLeaf(ca, text, Web, Now, TimeSpan.FromHours(72), Serial(2));
                Assert.Contains($"URI:{Web}", Openssl(["x509", "-noout", "-ext", "subjectAltName"], leaf), StringComparison.Ordinal);
            }
            catch (CsrException)
            {
            }
        }
    }

    [Theory]
    [InlineData("spiffe://td.consul/ns/default/dc/dc1/svc/web", true)]
    [InlineData("spiffe://td.consul/ns/default/dc/dc1/svc/Web.v2", true)]
    [InlineData("spiffe://td.consul/ns/default/dc/dc1/svc/", false)]
    [InlineData("spiffe://td.consul/ns/default/dc/dc1/svc/web/extra", false)]
    [InlineData("spiffe://td.consul/ns/default/dc/dc1/svc/web?x=1", false)]
    [InlineData("spiffe://td.consul:8443/ns/default/dc/dc1/svc/web", false)]
    [InlineData("spiffe://user@td.consul/ns/default/dc/dc1/svc/web", false)]
    [InlineData("spiffe://TD.consul/ns/default/dc/dc1/svc/web", false)]
    [InlineData("spiffe://td.consul/ns/default/dc/dc1/svc/we%62", false)]
    [InlineData("https://td.consul/ns/default/dc/dc1/svc/web", false)]
    [InlineData("spiffe://td.consul/dc/dc1/ns/default/svc/web", false)]
    public void Spiffe_ids_parse_strictly(string text, bool valid)
    {
        Assert.Equal(valid, SpiffeId.TryParse(text, out var id));
        if (valid)
        {
            Assert.Equal(text, id!.ToString());
        }
    }

    private static string OpensslVerify(string rootPem, string leafPem, string? untrusted = null, DateTimeOffset? at = null) =>
        Connect.Openssl.Verify(rootPem, leafPem, untrusted, at ?? Now.AddHours(1));

    private static string Openssl(IEnumerable<string> args, string stdin) => Connect.Openssl.Run(args, stdin);
}
