using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Agent.Connect;
using Cluster.Contracts;
using Cluster.Contracts.State;
using Cluster.Server.Connect;

namespace Cluster.Agent.Http;

/// <summary>The Connect CA's JSON: Consul's roots list, CA configuration and issued leaf, and the configuration a PUT may carry.</summary>
public static class CaJson
{
    /// <summary>The keys of a built-in CA's Config (snake_case, as HCL writes them, is accepted).</summary>
    private static readonly string[] ConfigKeys =
    [
        "LeafCertTTL", "IntermediateCertTTL", "RootCertTTL", "PrivateKeyType", "PrivateKeyBits", "PrivateKey", "RootCert",
        "CSRMaxPerSecond", "CSRMaxConcurrent", "RotationPeriod",
    ];

    private static readonly string[] TopKeys = ["Provider", "Config", "ForceWithoutCrossSigning", "ClusterID", "State", "CreateIndex", "ModifyIndex"];

    public static JsonObject Roots(CaState ca) => new()
    {
        ["ActiveRootID"] = ca.Roots.FirstOrDefault(r => r.Active)?.Id ?? "",
        ["TrustDomain"] = ca.TrustDomain,
        ["Roots"] = new JsonArray([.. ca.Roots.Select(r => (JsonNode)Root(r))]),
    };

    public static JsonObject Root(CaRoot root) => new()
    {
        ["ID"] = root.Id,
        ["Name"] = root.Name,
        ["SerialNumber"] = root.SerialNumber,
        ["SigningKeyID"] = root.SigningKeyId,
        ["ExternalTrustDomain"] = root.ExternalTrustDomain,
        ["NotBefore"] = Time(root.NotBeforeUnix),
        ["NotAfter"] = Time(root.NotAfterUnix),
        ["RootCert"] = root.RootCert,
        ["IntermediateCerts"] = root.IntermediateCerts.Count == 0 ? null : new JsonArray([.. root.IntermediateCerts.Select(c => (JsonNode)c)]),
        ["Active"] = root.Active,
        ["RotatedOutAt"] = Time(root.RotatedOutAtUnix),
        ["PrivateKeyType"] = root.PrivateKeyType,
        ["PrivateKeyBits"] = root.PrivateKeyBits,
        ["CreateIndex"] = root.CreateIndex,
        ["ModifyIndex"] = root.ModifyIndex,
    };

    /// <summary>The CA configuration as Consul's GET shows it (no key material: only the roots list shows certificates).</summary>
    public static JsonObject Configuration(CaConfig config) => new()
    {
        ["ClusterID"] = config.ClusterId,
        ["Provider"] = config.Provider,
        ["Config"] = new JsonObject
        {
            ["LeafCertTTL"] = GoDuration.Format(TimeSpan.FromSeconds(config.LeafCertTtlS)),
            ["IntermediateCertTTL"] = GoDuration.Format(TimeSpan.FromSeconds(config.IntermediateCertTtlS)),
            ["RootCertTTL"] = GoDuration.Format(TimeSpan.FromSeconds(config.RootCertTtlS)),
            ["PrivateKeyType"] = config.PrivateKeyType,
            ["PrivateKeyBits"] = config.PrivateKeyBits,
            ["CSRMaxPerSecond"] = config.CsrMaxPerSecond,
            ["CSRMaxConcurrent"] = config.CsrMaxConcurrent,
        },
        ["State"] = null,
        ["ForceWithoutCrossSigning"] = config.ForceWithoutCrossSigning,
        ["CreateIndex"] = config.CreateIndex,
        ["ModifyIndex"] = config.ModifyIndex,
    };

    public static JsonObject Leaf(IssuedLeaf leaf) => new()
    {
        ["SerialNumber"] = leaf.SerialNumber,
        ["CertPEM"] = leaf.CertPem,
        ["PrivateKeyPEM"] = leaf.PrivateKeyPem,
        ["Service"] = leaf.Service,
        ["ServiceURI"] = leaf.ServiceUri,
        ["ValidAfter"] = leaf.ValidAfter.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        ["ValidBefore"] = leaf.ValidBefore.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        ["CreateIndex"] = leaf.Index,
        ["ModifyIndex"] = leaf.Index,
    };

    /// <summary>
    /// A PUT body as the request it makes: fields left out take Consul's defaults (a PUT replaces
    /// the configuration), unknown fields and wrong types are refused naming the field.
    /// </summary>
    public static CaConfigureRequest ConfigureRequest(JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        Known(body, TopKeys, "");
        var provider = JsonFields.Str(body, "Provider", CaDefaults.Provider);
        var config = CaDefaults.Config(JsonFields.Str(body, "ClusterID"));
        config.Provider = provider.Length == 0 ? CaDefaults.Provider : provider;
        config.ForceWithoutCrossSigning = JsonFields.Bool(body, "ForceWithoutCrossSigning");
        var request = new CaConfigureRequest { Config = config };
        if (body["Config"] is null)
        {
            return request;
        }

        var settings = JsonFields.Obj(body, "Config")!;
        var named = Known(settings, ConfigKeys, "Config.");
        TimeSpan? Duration(string key) => named.TryGetValue(key, out var raw) ? JsonFields.Duration(settings, raw) : null;
        if (Duration("LeafCertTTL") is { } leaf)
        {
            config.LeafCertTtlS = Seconds(leaf);
        }

        if (Duration("IntermediateCertTTL") is { } intermediate)
        {
            config.IntermediateCertTtlS = Seconds(intermediate);
        }

        if (Duration("RootCertTTL") is { } root)
        {
            config.RootCertTtlS = Seconds(root);
        }

        _ = Duration("RotationPeriod"); // accepted and unused, as in Consul
        if (named.TryGetValue("PrivateKeyType", out var type))
        {
            config.PrivateKeyType = JsonFields.Str(settings, type);
            config.PrivateKeyBits = config.PrivateKeyType == "rsa" ? 2048 : CaDefaults.PrivateKeyBits;
        }

        if (named.TryGetValue("PrivateKeyBits", out var bits))
        {
            config.PrivateKeyBits = (int)Numeric(settings, bits, "Config.PrivateKeyBits", integer: true);
        }

        if (named.TryGetValue("CSRMaxPerSecond", out var perSecond))
        {
            config.CsrMaxPerSecond = Numeric(settings, perSecond, "Config.CSRMaxPerSecond", integer: false);
        }

        if (named.TryGetValue("CSRMaxConcurrent", out var concurrent))
        {
            config.CsrMaxConcurrent = (int)Numeric(settings, concurrent, "Config.CSRMaxConcurrent", integer: true);
        }

        request.PrivateKey = named.TryGetValue("PrivateKey", out var key) ? JsonFields.Str(settings, key) : "";
        request.RootCert = named.TryGetValue("RootCert", out var cert) ? JsonFields.Str(settings, cert) : "";
        return request;
    }

    /// <summary>Maps each canonical key present to the name it was written as; anything else is a 400.</summary>
    private static Dictionary<string, string> Known(JsonObject json, string[] keys, string path)
    {
        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (written, _) in json)
        {
            var bare = written.Replace("_", "", StringComparison.Ordinal);
            var key = keys.FirstOrDefault(k => string.Equals(k, bare, StringComparison.OrdinalIgnoreCase))
                ?? throw ApiException.BadRequest($"Request decode failed: unknown CA configuration key \"{path}{written}\"");
            named[key] = written;
        }

        return named;
    }

    /// <summary>A number given as JSON number or numeric string (HCL and old clients send either).</summary>
    private static double Numeric(JsonObject json, string name, string path, bool integer)
    {
        var node = json[name];
        double value;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out var number))
        {
            value = number;
        }
        else if (node is JsonValue s && s.TryGetValue<string>(out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
        {
            value = parsed;
        }
        else
        {
            throw ApiException.BadRequest($"Request decode failed: {path}: expected a number");
        }

        if (!double.IsFinite(value) || (integer && (value % 1 != 0 || value is < int.MinValue or > int.MaxValue)))
        {
            throw ApiException.BadRequest($"Request decode failed: {path}: {value.ToString(CultureInfo.InvariantCulture)} is not {(integer ? "a 32-bit integer" : "a finite number")}");
        }

        return value;
    }

    private static long Seconds(TimeSpan duration) => (long)Math.Ceiling(duration.TotalSeconds);

    /// <summary>RFC 3339 in UTC, as Go writes a time.Time; 0 is Go's zero time.</summary>
    private static string Time(long unixSeconds) => unixSeconds == 0
        ? "0001-01-01T00:00:00Z"
        : DateTimeOffset.FromUnixTimeSeconds(unixSeconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
