using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cluster.Contracts.State;
using Cluster.Server.Connect;

namespace Cluster.Tests.Connect;

/// <summary>How a mesh peer's certificate is judged at a handshake: the chain, the time, and exactly the expected identity.</summary>
public sealed class PeerCertificateTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
    private static readonly CaState Ca = CaPlan.Bootstrap(CaDefaults.Config("11111111-2222-3333-4444-555555555555"), Now, [1]);
    private static readonly CaKeyPair Root = new(Ca.Roots[0].RootCert, Ca.Roots[0].SigningKey);

    private static SpiffeId Id(string service, string? trustDomain = null) => new(trustDomain ?? Ca.TrustDomain, "default", "dc1", service);

    private static string Leaf(CaKeyPair ca, SpiffeId id, TimeSpan? ttl = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={id.Service}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(id.ToUri());
        request.CertificateExtensions.Add(san.Build());
        return CertificateAuthority.SignLeaf(ca, request.CreateSigningRequestPem(), id, Now, ttl ?? TimeSpan.FromHours(72), [2]);
    }

    [Fact]
    public void A_leaf_of_the_expected_service_from_a_trusted_root_is_verified()
    {
        var verdict = PeerCertificate.Verify(Leaf(Root, Id("db")), [Root.CertificatePem], Id("db"), Now.AddHours(1));
        Assert.True(verdict.Trusted, verdict.Reason);
        Assert.Equal(Id("db"), verdict.Identity);
    }

    [Fact]
    public void CVE_2021_32574_a_valid_leaf_of_another_service_is_not_the_upstream()
    {
        var verdict = PeerCertificate.Verify(Leaf(Root, Id("web")), [Root.CertificatePem], Id("db"), Now.AddHours(1));
        Assert.False(verdict.Trusted);
        Assert.Contains("not the expected", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Untrusted_expired_and_not_yet_valid_leaves_are_refused()
    {
        var foreign = CertificateAuthority.CreateRoot("99999999-0000-0000-0000-000000000000.consul", Now, TimeSpan.FromDays(3650), [3]);
        Assert.False(PeerCertificate.Verify(Leaf(foreign, Id("db", "99999999-0000-0000-0000-000000000000.consul")), [Root.CertificatePem], Id("db"), Now.AddHours(1)).Trusted);
        Assert.False(PeerCertificate.Verify(Leaf(Root, Id("db")), [Root.CertificatePem], Id("db"), Now.AddHours(73)).Trusted);
        Assert.False(PeerCertificate.Verify(Leaf(Root, Id("db")), [Root.CertificatePem], Id("db"), Now.AddHours(-1)).Trusted);
    }

    [Fact]
    public void A_ca_certificate_or_garbage_is_never_a_peer()
    {
        Assert.False(PeerCertificate.Verify(Root.CertificatePem, [Root.CertificatePem], Id("db"), Now.AddHours(1)).Trusted);
        Assert.False(PeerCertificate.Verify("", [Root.CertificatePem], Id("db"), Now).Trusted);
        Assert.False(PeerCertificate.Verify("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", [Root.CertificatePem], Id("db"), Now).Trusted);
    }

    [Fact]
    public void During_a_rotation_a_new_leaf_with_its_cross_signed_cert_verifies_for_a_peer_trusting_only_the_old_root()
    {
        var rsa = Ca.Config.Clone();
        (rsa.PrivateKeyType, rsa.PrivateKeyBits) = ("rsa", 2048);
        var rotated = CaPlan.Configure(Ca, rsa, "", "", Now, () => [4]).Next;
        var fresh = rotated.Roots.Single(r => r.Active);
        var leaf = Leaf(new CaKeyPair(fresh.RootCert, fresh.SigningKey), Id("db"));

        Assert.True(PeerCertificate.Verify(leaf + fresh.IntermediateCerts[0], [Root.CertificatePem], Id("db"), Now.AddHours(1)).Trusted);
        Assert.False(PeerCertificate.Verify(leaf, [Root.CertificatePem], Id("db"), Now.AddHours(1)).Trusted);
    }
}
