using System.Text.Json.Nodes;
using Cluster.Agent.Connect;
using Cluster.Agent.Http;
using Cluster.Server.Connect;
using Cluster.Testing;

namespace Cluster.Tests.Connect;

/// <summary>Consul's CSR limits on the leader, the agent's renewal timing, and the CA configuration a PUT carries.</summary>
public sealed class CsrLimitsAndRenewalTests
{
    [Fact]
    public void The_rate_limit_admits_a_second_of_burst_then_refills_at_the_rate()
    {
        var time = new ManualTimeProvider();
        var admission = new CsrAdmission(time);
        for (var i = 0; i < 50; i++)
        {
            admission.Admit(50, 0).Dispose();
        }

        Assert.Equal(CsrAdmission.Refusal, Assert.Throws<RateLimitedException>(() => admission.Admit(50, 0)).Message);
        time.Advance(TimeSpan.FromMilliseconds(100)); // five tokens
        for (var i = 0; i < 5; i++)
        {
            admission.Admit(50, 0).Dispose();
        }

        Assert.Throws<RateLimitedException>(() => admission.Admit(50, 0));
        time.Advance(TimeSpan.FromHours(1)); // never more than the burst
        for (var i = 0; i < 50; i++)
        {
            admission.Admit(50, 0).Dispose();
        }

        Assert.Throws<RateLimitedException>(() => admission.Admit(50, 0));
    }

    [Fact]
    public void A_fractional_rate_still_admits_one_and_zero_means_no_limit()
    {
        var time = new ManualTimeProvider();
        var slow = new CsrAdmission(time);
        slow.Admit(0.5, 0).Dispose();
        Assert.Throws<RateLimitedException>(() => slow.Admit(0.5, 0));
        time.Advance(TimeSpan.FromSeconds(2));
        slow.Admit(0.5, 0).Dispose();

        var open = new CsrAdmission(time);
        for (var i = 0; i < 10_000; i++)
        {
            open.Admit(0, 0).Dispose();
        }
    }

    [Fact]
    public void The_concurrency_limit_counts_signings_in_flight_and_ignores_the_rate()
    {
        var admission = new CsrAdmission(new ManualTimeProvider());
        var first = admission.Admit(1, 2);
        var second = admission.Admit(1, 2);
        Assert.Throws<RateLimitedException>(() => admission.Admit(1, 2));
        first.Dispose();
        first.Dispose(); // a double release frees one slot, not two
        var third = admission.Admit(1, 2);
        Assert.Throws<RateLimitedException>(() => admission.Admit(1, 2));
        second.Dispose();
        third.Dispose();
    }

    [Fact]
    public void Renewal_lands_between_60_and_90_percent_of_the_lifetime_spread_over_that_range()
    {
        var start = new DateTimeOffset(2026, 12, 3, 0, 0, 0, TimeSpan.Zero);
        var leaf = new IssuedLeaf("web", "", "", "", "", start, start.AddHours(100), "root", 1);
        var random = new Random(19);
        var points = Enumerable.Range(0, 1000).Select(_ => (LeafRenewal.RenewAt(leaf, random) - start).TotalHours).ToList();

        Assert.All(points, h => Assert.InRange(h, 60, 90));
        Assert.True(points.Min() < 61 && points.Max() > 89, "the renewals spread over the whole window");
    }

    [Theory]
    [InlineData(10, 50, 30)]
    [InlineData(10_000, 50, 200)]
    [InlineData(10_000, 0, 30)]
    [InlineData(0, 50, 30)]
    public void After_a_rotation_the_fleet_spreads_over_a_window_its_rate_can_serve(int agents, double perSecond, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), LeafRenewal.JitterWindow(agents, perSecond));

    [Fact]
    public void A_leaf_is_stale_once_another_root_is_active()
    {
        var leaf = new IssuedLeaf("web", "", "", "", "", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, "aa:bb", 1);
        Assert.False(LeafRenewal.SignedByOldRoot(leaf, "aa:bb"));
        Assert.True(LeafRenewal.SignedByOldRoot(leaf, "cc:dd"));
        Assert.False(LeafRenewal.SignedByOldRoot(leaf, ""));
    }

    [Fact]
    public void A_configuration_put_takes_defaults_for_what_it_leaves_out_and_accepts_hcl_spelling()
    {
        var request = CaJson.ConfigureRequest(JsonNode.Parse("""{"Provider": "consul", "Config": {"leaf_cert_ttl": "24h", "private_key_type": "rsa", "CSRMaxPerSecond": "10.5", "PrivateKey": "k", "RotationPeriod": "2160h"}}""")!.AsObject());

        Assert.Equal(24 * 3600, request.Config.LeafCertTtlS);
        Assert.Equal(("rsa", 2048), (request.Config.PrivateKeyType, request.Config.PrivateKeyBits));
        Assert.Equal(10.5, request.Config.CsrMaxPerSecond);
        Assert.Equal(8760 * 3600L, request.Config.IntermediateCertTtlS);
        Assert.Equal("k", request.PrivateKey);
        Assert.Equal(CaDefaults.Config("").CsrMaxConcurrent, request.Config.CsrMaxConcurrent);
    }

    [Theory]
    [InlineData("""{"Provider": "consul", "Bogus": 1}""", "unknown CA configuration key \"Bogus\"")]
    [InlineData("""{"Config": {"Nope": 1}}""", "unknown CA configuration key \"Config.Nope\"")]
    [InlineData("""{"Config": {"LeafCertTTL": "forever"}}""", "LeafCertTTL: invalid duration")]
    [InlineData("""{"Config": {"LeafCertTTL": true}}""", "LeafCertTTL: expected a duration")]
    [InlineData("""{"Config": {"PrivateKeyBits": 256.5}}""", "Config.PrivateKeyBits")]
    [InlineData("""{"Config": {"PrivateKeyBits": 1e12}}""", "Config.PrivateKeyBits")]
    [InlineData("""{"Config": {"CSRMaxPerSecond": "fast"}}""", "Config.CSRMaxPerSecond: expected a number")]
    [InlineData("""{"Config": {"PrivateKey": 5}}""", "PrivateKey: expected a string")]
    [InlineData("""{"Config": []}""", "Config")]
    [InlineData("""{"Provider": 1}""", "Provider: expected a string")]
    public void A_malformed_configuration_put_is_a_400_naming_the_field(string body, string expected)
    {
        var error = Assert.Throws<ApiException>(() => CaJson.ConfigureRequest(JsonNode.Parse(body)!.AsObject()));
        Assert.Equal(400, error.Status);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mutated_configuration_bodies_are_accepted_or_refused_with_a_400_never_an_exception()
    {
        const string seed = """{"Provider": "consul", "ForceWithoutCrossSigning": false, "Config": {"LeafCertTTL": "72h", "IntermediateCertTTL": "8760h", "RootCertTTL": "87600h", "PrivateKeyType": "ec", "PrivateKeyBits": 256, "CSRMaxPerSecond": 50, "CSRMaxConcurrent": 0, "PrivateKey": "", "RootCert": ""}}""";
        var random = new Random(1919);
        JsonNode[] junk = [JsonValue.Create(-1), JsonValue.Create(1e308), JsonValue.Create("72h"), JsonValue.Create(""), JsonValue.Create(true), new JsonArray(), new JsonObject(), JsonValue.Create("\ud800x"), JsonValue.Create(0.5)];
        for (var round = 0; round < 3000; round++)
        {
            var body = JsonNode.Parse(seed)!.AsObject();
            var config = body["Config"]!.AsObject();
            for (var edits = random.Next(1, 4); edits > 0; edits--)
            {
                var target = random.Next(2) == 0 ? body : config;
                var keys = target.Select(p => p.Key).ToList();
                var key = keys.Count > 0 && random.Next(4) > 0 ? keys[random.Next(keys.Count)] : $"k{random.Next(5)}";
                if (random.Next(5) == 0)
                {
                    target.Remove(key);
                }
                else
                {
                    target[key] = junk[random.Next(junk.Length)].DeepClone();
                }
            }

            try
            {
                var request = CaJson.ConfigureRequest(body);
                _ = CaPlan.Invalid(request.Config); // whatever parses, the plan can judge
            }
            catch (ApiException e) when (e.Status == 400)
            {
            }
        }
    }
}
