using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cluster.Contracts.State;
using Cluster.Server.Connect;
using Cluster.Server.Nodes;
using Cluster.Tests.Connect;

namespace Cluster.Tests.Server;

/// <summary>The CA's HTTP API on one agent: roots, configuration, the agent's leaf and roots caches, and the leader's refusals.</summary>
public sealed class HttpConnectCaTests(HttpAgentFixture agent) : IClassFixture<HttpAgentFixture>
{
    private static string Csr(params Uri[] uris)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=x", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var uri in uris)
        {
            san.AddUri(uri);
        }

        request.CertificateExtensions.Add(san.Build());
        return request.CreateSigningRequestPem();
    }

    private Uri Spiffe(string service, string? trustDomain = null) => new($"spiffe://{trustDomain ?? agent.CaTrustDomain}/ns/default/dc/dc1/svc/{service}");

    [Fact]
    public async Task Roots_list_the_active_root_as_consul_does_and_as_a_pem_bundle()
    {
        var reply = await agent.GetAsync("/v1/connect/ca/roots");
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        var json = reply.Json!;
        Assert.Equal(agent.CaTrustDomain, (string)json["TrustDomain"]!);
        var active = json["Roots"]!.AsArray().Single(r => (bool)r!["Active"]!)!;
        Assert.Equal((string)json["ActiveRootID"]!, (string)active["ID"]!);
        foreach (var field in new[] { "Name", "SerialNumber", "SigningKeyID", "ExternalTrustDomain", "NotBefore", "NotAfter", "RootCert", "IntermediateCerts", "RotatedOutAt", "PrivateKeyType", "PrivateKeyBits", "CreateIndex", "ModifyIndex" })
        {
            Assert.True(active.AsObject().ContainsKey(field), field);
        }

        Assert.DoesNotContain("PRIVATE KEY", reply.Text, StringComparison.Ordinal);
        Assert.True(reply.Index > 0);

        var pem = await agent.GetAsync("/v1/connect/ca/roots?pem=true");
        Assert.Equal("application/pem-certificate-chain", pem.ContentHeaders.ContentType!.MediaType);
        Assert.Equal(json["Roots"]!.AsArray().Count, Openssl.Blocks(pem.Text).Count);
    }

    [Fact]
    public async Task The_configuration_round_trips_and_bad_input_is_a_400_that_changes_nothing()
    {
        var before = (await agent.GetAsync("/v1/connect/ca/configuration")).Json!;
        Assert.Equal("consul", (string)before["Provider"]!);
        Assert.Equal("72h0m0s", (string)before["Config"]!["LeafCertTTL"]!);

        foreach (var (body, expected) in new[]
        {
            ("""{"Provider": "consul", "Config": {"LeafCertTTL": "30m"}}""", "out of range"),
            ("""{"Provider": "consul", "Config": {"Unknown": 1}}""", "unknown CA configuration key"),
            ("""{"Provider": "vault"}""", "unknown CA provider"),
            ("""{"Provider": "consul", "Config": {"PrivateKey": "not a key"}}""", "PrivateKey is not a PEM private key"),
            ("""{"Provider": "consul", "Config": {"RootCert": "-----BEGIN CERTIFICATE-----"}}""", "RootCert needs its PrivateKey"),
            ("""{"Provider": "consul", "ClusterID": "00000000-0000-0000-0000-000000000000"}""", "ClusterID cannot change"),
            ("""{"Provider": "consul", """, "Request decode failed"),
        })
        {
            var refused = await agent.PutAsync("/v1/connect/ca/configuration", body);
            Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
            Assert.Contains(expected, refused.Text, StringComparison.Ordinal);
        }

        var unchanged = (await agent.GetAsync("/v1/connect/ca/configuration")).Json!;
        Assert.Equal((ulong)before["ModifyIndex"]!, (ulong)unchanged["ModifyIndex"]!);

        var roots = await agent.GetAsync("/v1/connect/ca/roots");
        var blocked = agent.GetAsync($"/v1/connect/ca/roots?index={roots.Index}&wait=30s");
        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync("/v1/connect/ca/configuration", """{"Provider": "consul", "Config": {"LeafCertTTL": "24h", "CSRMaxPerSecond": 100}}""")).Status);
        Assert.True((await blocked).Index > roots.Index); // a blocking roots read wakes on the CA's write
        var changed = (await agent.GetAsync("/v1/connect/ca/configuration")).Json!;
        Assert.Equal(("24h0m0s", 100d), ((string)changed["Config"]!["LeafCertTTL"]!, (double)changed["Config"]!["CSRMaxPerSecond"]!));
        Assert.Equal((string)roots.Json!["ActiveRootID"]!, (string)(await agent.GetAsync("/v1/connect/ca/roots")).Json!["ActiveRootID"]!); // no new key: no rotation
        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync("/v1/connect/ca/configuration", """{"Provider": "consul"}""")).Status);
    }

    [Fact]
    public async Task The_agent_issues_a_leaf_with_its_own_key_and_holds_a_blocking_read_until_it_changes()
    {
        var first = await agent.GetAsync("/v1/agent/connect/ca/leaf/leaf-web");
        Assert.Equal(HttpStatusCode.OK, first.Status);
        var leaf = first.Json!;
        Assert.Equal(Spiffe("leaf-web").ToString(), (string)leaf["ServiceURI"]!);
        Assert.Equal(first.Index, (ulong)leaf["ModifyIndex"]!);
        var roots = (await agent.GetAsync("/v1/agent/connect/ca/roots")).Json!;
        Assert.Equal("OK", Openssl.Verify(string.Concat(roots["Roots"]!.AsArray().Select(r => (string)r!["RootCert"]!)), (string)leaf["CertPEM"]!, null, DateTimeOffset.UtcNow));

        // The key is the agent's: the certificate is for it, and no server state holds it.
        using (var cert = X509Certificate2.CreateFromPem((string)leaf["CertPEM"]!, (string)leaf["PrivateKeyPEM"]!))
        {
            Assert.True(cert.HasPrivateKey);
        }

        Assert.DoesNotContain((string)leaf["PrivateKeyPEM"]!, (await agent.GetAsync("/v1/kv/?recurse")).Text, StringComparison.Ordinal);

        // Asked again: the cached leaf; held at its index: the same leaf when the wait ends.
        Assert.Equal((string)leaf["SerialNumber"]!, (string)(await agent.GetAsync("/v1/agent/connect/ca/leaf/leaf-web")).Json!["SerialNumber"]!);
        var held = await agent.GetAsync($"/v1/agent/connect/ca/leaf/leaf-web?index={first.Index}&wait=1s");
        Assert.Equal(first.Index, held.Index);
    }

    [Theory]
    [InlineData("/v1/agent/connect/ca/leaf/", HttpStatusCode.BadRequest)]
    [InlineData("/v1/agent/connect/ca/leaf/a/b", HttpStatusCode.BadRequest)]
    [InlineData("/v1/agent/connect/ca/leaf/bad%20name", HttpStatusCode.BadRequest)]
    [InlineData("/v1/agent/connect/ca/leaf/%2e%2e", HttpStatusCode.NotFound)] // a dot segment is resolved away: no such path
    public async Task A_leaf_for_a_malformed_service_name_is_refused(string path, HttpStatusCode expected) =>
        Assert.Equal(expected, (await agent.GetAsync(path)).Status);

    [Fact]
    public async Task The_leader_refuses_csrs_for_another_service_trust_domain_or_several_identities_and_signs_nothing()
    {
        var server = agent.Host.Server;
        var cases = new (string Service, string Csr, string Expected)[]
        {
            ("web", Csr(Spiffe("db")), "is not the requesting service's"),
            ("web", Csr(Spiffe("web", "99999999-0000-0000-0000-000000000000.consul")), "not in this cluster's trust domain"),
            ("web", Csr(Spiffe("web"), Spiffe("db")), "exactly one URI SAN"), // CVE-2022-40716
            ("web", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", "cannot be read"),
            ("", Csr(Spiffe("web")), "needs the service"),
        };
        foreach (var (service, csr, expected) in cases)
        {
            var error = await Assert.ThrowsAsync<InvalidRequestException>(() => server.SignAsync(new SignRequest { Csr = csr, Service = service }));
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        }

        var signed = await server.SignAsync(new SignRequest { Csr = Csr(Spiffe("web")), Service = "web" });
        Assert.Equal(Spiffe("web").ToString(), signed.ServiceUri);
    }

    [Fact]
    public async Task Signing_over_the_csr_rate_is_refused_with_a_retry_later_error()
    {
        Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync("/v1/connect/ca/configuration", """{"Provider": "consul", "Config": {"CSRMaxPerSecond": 0.001}}""")).Status);
        try
        {
            var server = agent.Host.Server;
            var outcomes = new List<string>();
            for (var i = 0; i < 3; i++)
            {
                try
                {
                    await server.SignAsync(new SignRequest { Csr = Csr(Spiffe("rl-web")), Service = "rl-web" });
                    outcomes.Add("signed");
                }
                catch (RateLimitedException e)
                {
                    outcomes.Add(e.Message);
                }
            }

            Assert.Contains(CsrAdmission.Refusal, outcomes);
        }
        finally
        {
            Assert.Equal(HttpStatusCode.OK, (await agent.PutAsync("/v1/connect/ca/configuration", """{"Provider": "consul"}""")).Status);
        }
    }
}
