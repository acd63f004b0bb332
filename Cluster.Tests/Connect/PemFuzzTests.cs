using Cluster.Contracts.State;
using Cluster.Server.Connect;

namespace Cluster.Tests.Connect;

/// <summary>Seeded mutations of the PEM the CA reads from operators (PrivateKey, RootCert) and of the chains peers present: a clear refusal, never a crash.</summary>
public sealed class PemFuzzTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
    private static readonly CaState Ca = CaPlan.Bootstrap(CaDefaults.Config("11111111-2222-3333-4444-555555555555"), Now, [1]);

    private static string Mutate(string pem, Random random)
    {
        var chars = pem.ToCharArray();
        for (var edits = random.Next(1, 6); edits > 0; edits--)
        {
            var at = random.Next(chars.Length);
            chars[at] = random.Next(4) switch
            {
                0 => (char)random.Next(32, 127),
                1 => "ABCDEFabcdef0123456789+/="[random.Next(25)],
                2 => '\n',
                _ => chars[random.Next(chars.Length)],
            };
        }

        var text = new string(chars);
        return random.Next(6) == 0 ? text[..random.Next(text.Length)] : text;
    }

    [Fact]
    public void Mutated_operator_keys_and_roots_are_refused_as_configuration_errors_or_adopted()
    {
        var own = CertificateAuthority.CreateRoot(Ca.TrustDomain, Now, TimeSpan.FromDays(365), [2]);
        var random = new Random(2022);
        var outcomes = new Dictionary<string, int>();
        for (var round = 0; round < 400; round++)
        {
            var key = random.Next(2) == 0 ? Mutate(own.PrivateKeyPem, random) : own.PrivateKeyPem;
            var cert = random.Next(2) == 0 ? Mutate(own.CertificatePem, random) : own.CertificatePem;
            try
            {
                var change = CaPlan.Configure(Ca, CaDefaults.Config(""), key, cert, Now, () => [3]);
                Assert.True(change.Rotated);
                outcomes["adopted"] = outcomes.GetValueOrDefault("adopted") + 1;
            }
            catch (CaConfigException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
                outcomes["refused"] = outcomes.GetValueOrDefault("refused") + 1;
            }
        }

        Assert.True(outcomes.GetValueOrDefault("refused") > 100, string.Join(", ", outcomes));
    }

    [Fact]
    public void Mutated_peer_chains_are_judged_untrusted_never_thrown()
    {
        var root = Ca.Roots[0];
        var web = new SpiffeId(Ca.TrustDomain, "default", "dc1", "web");
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=web", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        var san = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
        san.AddUri(web.ToUri());
        request.CertificateExtensions.Add(san.Build());
        var leaf = CertificateAuthority.SignLeaf(new CaKeyPair(root.RootCert, root.SigningKey), request.CreateSigningRequestPem(), web, Now, TimeSpan.FromHours(72), [4]);
        Assert.True(PeerCertificate.Verify(leaf, [root.RootCert], web, Now.AddHours(1)).Trusted);

        var random = new Random(32574);
        var trusted = 0;
        for (var round = 0; round < 500; round++)
        {
            var verdict = PeerCertificate.Verify(Mutate(leaf, random), [root.RootCert], web, Now.AddHours(1));
            trusted += verdict.Trusted ? 1 : 0;
            Assert.False(string.IsNullOrWhiteSpace(verdict.Reason));
        }

        // A mutation that still verifies can only have touched PEM framing, never the signed bytes.
        Assert.True(trusted < 500);
    }
}
