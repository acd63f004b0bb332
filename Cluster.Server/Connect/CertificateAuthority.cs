using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Cluster.Server.Connect;

/// <summary>A CA's certificate and private key, both PEM.</summary>
public sealed record CaKeyPair(string CertificatePem, string PrivateKeyPem);

/// <summary>An issued certificate's PEM and validity.</summary>
public sealed record IssuedCertificate(string Pem, DateTimeOffset NotBefore, DateTimeOffset NotAfter);

/// <summary>
/// A CA parsed for signing: its certificate, key and signature generator loaded once. Reading
/// them from PEM costs as much as the rest of a signature, so a server keeps one per thread.
/// </summary>
public sealed class SigningCa : IDisposable
{
    private readonly X509Certificate2 _certificate;
    private readonly AsymmetricAlgorithm _key;

    private SigningCa(X509Certificate2 certificate, AsymmetricAlgorithm key)
    {
        _certificate = certificate;
        _key = key;
        Generator = key switch
        {
            ECDsa ec => X509SignatureGenerator.CreateForECDsa(ec),
            RSA rsa => X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1),
            _ => throw new NotSupportedException(key.GetType().Name),
        };
        Subject = certificate.SubjectName;
        NotAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        AuthorityKeyId = X509AuthorityKeyIdentifierExtension.CreateFromCertificate(certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false);
    }

    public X509SignatureGenerator Generator { get; }

    public X500DistinguishedName Subject { get; }

    public DateTimeOffset NotAfter { get; }

    public X509AuthorityKeyIdentifierExtension AuthorityKeyId { get; }

    public static SigningCa Load(CaKeyPair pair)
    {
        ArgumentNullException.ThrowIfNull(pair);
        var certificate = X509Certificate2.CreateFromPem(pair.CertificatePem);
        try
        {
            return new SigningCa(certificate, CertificateAuthority.LoadKey(pair.PrivateKeyPem));
        }
        catch
        {
            certificate.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _certificate.Dispose();
        _key.Dispose();
    }
}

/// <summary>What a root certificate says of itself, as the roots list shows it.</summary>
public sealed record RootFacts(string Id, string SigningKeyId, ulong SerialNumber, DateTimeOffset NotBefore, DateTimeOffset NotAfter, string KeyType, int KeyBits);

/// <summary>
/// The built-in CA's certificate work (Consul's provider "consul"): make a root for a trust
/// domain, cross-sign a new root with the old key for a rotation, and sign a leaf from a
/// service's CSR after checking it names exactly that service in this trust domain. Pure
/// functions of their inputs (time and serials are given): the leader decides when, the store
/// keeps the results, and nothing here blocks the Raft loop.
/// </summary>
public static class CertificateAuthority
{
    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";
    private const string SanOid = "2.5.29.17";
    private const string EcPublicKeyOid = "1.2.840.10045.2.1";
    private const string P256Oid = "1.2.840.10045.3.1.7";

    /// <summary>A self-signed root for <paramref name="trustDomain"/> (EC P-256, or RSA of <paramref name="rsaBits"/>), valid from <paramref name="now"/> for <paramref name="ttl"/>.</summary>
    public static CaKeyPair CreateRoot(string trustDomain, DateTimeOffset now, TimeSpan ttl, byte[] serial, int rsaBits = 0)
    {
        using AsymmetricAlgorithm key = rsaBits > 0 ? RSA.Create(rsaBits) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return CreateRoot(trustDomain, now, ttl, serial, key);
    }

    /// <summary>A self-signed root around a key the operator brought (Consul's PrivateKey without a RootCert).</summary>
    public static CaKeyPair CreateRoot(string trustDomain, DateTimeOffset now, TimeSpan ttl, byte[] serial, string privateKeyPem)
    {
        using var key = ReadOperatorKey(privateKeyPem);
        return CreateRoot(trustDomain, now, ttl, serial, key);
    }

    private static CaKeyPair CreateRoot(string trustDomain, DateTimeOffset now, TimeSpan ttl, byte[] serial, AsymmetricAlgorithm key)
    {
        ArgumentException.ThrowIfNullOrEmpty(trustDomain);
        // Each root is named apart (by its serial): during a rotation two roots are trusted at
        // once, and a chain builder that went by name alone could pick the wrong one.
        var subject = new X500DistinguishedName($"CN=Cluster CA Root {Convert.ToHexStringLower(serial[..Math.Min(8, serial.Length)])}, O={trustDomain}");
        var request = key is RSA rsa
            ? new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest(subject, (ECDsa)key, HashAlgorithmName.SHA256);
        AddCaExtensions(request, trustDomain);
        using var root = request.CreateSelfSigned(now.AddMinutes(-1), now + ttl);
        // CreateSelfSigned picks a random serial; re-issue with the given one so serials are the caller's.
        using var issued = request.Create(root.SubjectName, Generator(key), now.AddMinutes(-1), now + ttl, serial);
        return new CaKeyPair(Pem(issued.ExportCertificatePem()), Pem(key.ExportPkcs8PrivateKeyPem()));
    }

    /// <summary>
    /// The new root's certificate signed by the old CA: peers that trust only the old root can
    /// verify leaves of the new one through it during a rotation (it rides in the new root's IntermediateCerts).
    /// </summary>
    public static string CrossSign(CaKeyPair oldCa, string newRootPem, DateTimeOffset now, byte[] serial)
    {
        ArgumentNullException.ThrowIfNull(oldCa);
        using var oldRoot = X509Certificate2.CreateFromPem(oldCa.CertificatePem);
        using var oldKey = LoadKey(oldCa.PrivateKeyPem);
        using var newRoot = X509Certificate2.CreateFromPem(newRootPem);
        var request = new CertificateRequest(newRoot.SubjectName, newRoot.PublicKey, HashAlgorithmName.SHA256);
        foreach (var extension in newRoot.Extensions)
        {
            request.CertificateExtensions.Add(extension);
        }

        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(oldRoot, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var notAfter = newRoot.NotAfter < oldRoot.NotAfter ? newRoot.NotAfter : oldRoot.NotAfter;
        using var cross = request.Create(oldRoot.SubjectName, Generator(oldKey), now.AddMinutes(-1), notAfter, serial);
        return Pem(cross.ExportCertificatePem());
    }

    /// <summary>
    /// Signs a leaf for <paramref name="expected"/> from a CSR, refusing (<see cref="CsrException"/>)
    /// anything else: a bad PEM or signature, a key other than EC P-256, no or several URI SANs
    /// (CVE-2022-40716: one checked, another used), a SPIFFE ID of another trust domain, service,
    /// datacenter or namespace, or a request to be a CA. The leaf carries only the checked URI
    /// (and the service's DNS SAN), is not a CA, and serves as both TLS server and client.
    /// </summary>
    public static string SignLeaf(CaKeyPair ca, string csrPem, SpiffeId expected, DateTimeOffset now, TimeSpan ttl, byte[] serial)
    {
        ArgumentNullException.ThrowIfNull(ca);
        using var loaded = SigningCa.Load(ca);
        return IssueLeaf(loaded, csrPem, expected, now, ttl, serial).Pem;
    }

    /// <summary><see cref="SignLeaf(CaKeyPair, string, SpiffeId, DateTimeOffset, TimeSpan, byte[])"/> with the CA already loaded (a server keeps it loaded between signings), with the leaf's validity.</summary>
    public static IssuedCertificate IssueLeaf(SigningCa ca, string csrPem, SpiffeId expected, DateTimeOffset now, TimeSpan ttl, byte[] serial)
    {
        ArgumentNullException.ThrowIfNull(ca);
        ArgumentNullException.ThrowIfNull(expected);
        var csr = ParseCsr(csrPem);
        var id = SingleSpiffeUri(csr);
        if (id.TrustDomain != expected.TrustDomain)
        {
            throw new CsrException($"the CSR's SPIFFE ID {id} is not in this cluster's trust domain {expected.TrustDomain}");
        }

        if (id != expected)
        {
            throw new CsrException($"the CSR's SPIFFE ID {id} is not the requesting service's ({expected})");
        }

        if (csr.CertificateExtensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority))
        {
            throw new CsrException("a leaf CSR may not ask to be a CA");
        }

        var leaf = new CertificateRequest(new X500DistinguishedName($"CN={expected.Service}"), csr.PublicKey, HashAlgorithmName.SHA256);
        leaf.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        leaf.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement | X509KeyUsageFlags.KeyEncipherment, true));
        leaf.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuth), new Oid(ClientAuth)], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(expected.ToUri());
        leaf.CertificateExtensions.Add(san.Build());
        leaf.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(csr.PublicKey, false));
        leaf.CertificateExtensions.Add(ca.AuthorityKeyId);
        // Certificates carry whole seconds: the validity said is the one written.
        var notBefore = TruncateToSeconds(now.AddMinutes(-1));
        var notAfter = TruncateToSeconds(now + ttl < ca.NotAfter ? now + ttl : ca.NotAfter);
        using var issued = leaf.Create(ca.Subject, ca.Generator, notBefore, notAfter, serial);
        return new IssuedCertificate(Pem(issued.ExportCertificatePem()), notBefore, notAfter);
    }

    private static DateTimeOffset TruncateToSeconds(DateTimeOffset time) => DateTimeOffset.FromUnixTimeSeconds(time.ToUnixTimeSeconds());

    /// <summary>
    /// An operator's own root (Consul's RootCert and PrivateKey), checked before it may sign: one
    /// certificate that is a CA, valid at <paramref name="now"/> for at least
    /// <paramref name="mustOutlive"/>, whose public key is the private key's, EC P-256 or RSA 2048/4096.
    /// </summary>
    public static CaKeyPair AdoptRoot(string rootCertPem, string privateKeyPem, DateTimeOffset now, TimeSpan mustOutlive)
    {
        using var key = ReadOperatorKey(privateKeyPem);
        X509Certificate2 cert;
        try
        {
            cert = X509Certificate2.CreateFromPem(rootCertPem);
        }
        catch (CryptographicException e)
        {
            throw new CaConfigException($"RootCert is not a PEM certificate: {e.Message}");
        }

        using (cert)
        {
            try
            {
                return Adopt(cert, key, now, mustOutlive);
            }
            catch (CryptographicException e)
            {
                // A certificate that parses but whose key or extensions do not (found by the fuzz test).
                throw new CaConfigException($"RootCert cannot be used: {e.Message}");
            }
        }
    }

    private static CaKeyPair Adopt(X509Certificate2 cert, AsymmetricAlgorithm key, DateTimeOffset now, TimeSpan mustOutlive)
    {
        if (cert.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
        {
            throw new CaConfigException("RootCert is not a CA certificate (basic constraints CA:TRUE)");
        }

        if (cert.NotBefore.ToUniversalTime() > now.UtcDateTime || cert.NotAfter.ToUniversalTime() < (now + mustOutlive).UtcDateTime)
        {
            throw new CaConfigException($"RootCert is valid {cert.NotBefore.ToUniversalTime():u} to {cert.NotAfter.ToUniversalTime():u}: it must be valid now and outlive a leaf ({mustOutlive})");
        }

        var matches = key switch
        {
            ECDsa ec => cert.GetECDsaPublicKey() is { } pub && pub.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(ec.ExportSubjectPublicKeyInfo()),
            RSA rsa => cert.GetRSAPublicKey() is { } pub && pub.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(rsa.ExportSubjectPublicKeyInfo()),
            _ => false,
        };
        if (!matches)
        {
            throw new CaConfigException("PrivateKey is not the key of RootCert");
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        chain.ChainPolicy.CustomTrustStore.Add(cert);
        if (!chain.Build(cert) || chain.ChainElements.Count != 1)
        {
            throw new CaConfigException("RootCert is not a valid self-signed root (its signature does not verify with its own key)");
        }

        return new CaKeyPair(Pem(cert.ExportCertificatePem()), Pem(key.ExportPkcs8PrivateKeyPem()));
    }

    /// <summary>What the CA's roots list says of a root certificate: fingerprint ID, subject key ID, serial, validity, key type and size.</summary>
    public static RootFacts Describe(string rootCertPem)
    {
        using var cert = X509Certificate2.CreateFromPem(rootCertPem);
        var keyId = cert.Extensions.OfType<X509SubjectKeyIdentifierExtension>().FirstOrDefault()?.SubjectKeyIdentifierBytes.ToArray()
            ?? new X509SubjectKeyIdentifierExtension(cert.PublicKey, false).SubjectKeyIdentifierBytes.ToArray();
        var serial = cert.SerialNumberBytes.Span;
        ulong low = 0;
        foreach (var b in serial[Math.Max(0, serial.Length - 8)..])
        {
            low = (low << 8) | b;
        }

        var (type, bits) = cert.GetECDsaPublicKey() is { } ec ? ("ec", ec.KeySize) : ("rsa", cert.GetRSAPublicKey()?.KeySize ?? 0);
        return new RootFacts(
            ColonHex(cert.GetCertHash()), // the SHA-1 fingerprint: Consul's root ID format, an identifier, not a check
            ColonHex(keyId),
            low,
            new DateTimeOffset(cert.NotBefore.ToUniversalTime()),
            new DateTimeOffset(cert.NotAfter.ToUniversalTime()),
            type,
            bits);
    }

    /// <summary>PEM ending in a newline, as Consul writes it: PEMs are joined into chains and bundles by concatenation.</summary>
    private static string Pem(string pem) => pem.EndsWith('\n') ? pem : pem + "\n";

    /// <summary>Bytes as Consul writes certificate IDs: lower-case hex pairs joined by ':'.</summary>
    public static string ColonHex(ReadOnlySpan<byte> bytes) => string.Join(':', bytes.ToArray().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>An operator's PEM key: EC P-256 or RSA 2048/4096 (PKCS#8, SEC1 or PKCS#1).</summary>
    private static AsymmetricAlgorithm ReadOperatorKey(string pem)
    {
        if (string.IsNullOrWhiteSpace(pem) || !pem.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            throw new CaConfigException("PrivateKey is not a PEM private key");
        }

        AsymmetricAlgorithm key;
        try
        {
            key = LoadKey(pem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new CaConfigException($"PrivateKey cannot be read: {e.Message}");
        }

        var supported = key switch
        {
            ECDsa ec => ec.ExportParameters(false).Curve.Oid.Value == P256Oid || ec.KeySize == 256,
            RSA rsa => rsa.KeySize is 2048 or 4096,
            _ => false,
        };
        if (!supported)
        {
            key.Dispose();
            throw new CaConfigException("PrivateKey must be EC P-256 or RSA 2048/4096");
        }

        return key;
    }

    /// <summary>A CSR from PEM with its signature verified and its key checked (EC P-256, as Consul's leaves).</summary>
    public static CertificateRequest ParseCsr(string csrPem)
    {
        if (string.IsNullOrWhiteSpace(csrPem) || !csrPem.Contains("-----BEGIN CERTIFICATE REQUEST-----", StringComparison.Ordinal))
        {
            throw new CsrException("the CSR is not a PEM \"CERTIFICATE REQUEST\"");
        }

        CertificateRequest csr;
        try
        {
            csr = CertificateRequest.LoadSigningRequestPem(csrPem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or FormatException or NotSupportedException or AsnContentException)
        {
            // NotSupported: a mangled algorithm or curve OID reaches the platform's crypto (found by the fuzz test).
            throw new CsrException($"the CSR cannot be read or its signature does not verify: {e.Message}");
        }

        if (csr.PublicKey.Oid.Value != EcPublicKeyOid || !IsP256(csr.PublicKey))
        {
            throw new CsrException("a leaf's key must be EC P-256");
        }

        return csr;
    }

    private static bool IsP256(PublicKey key)
    {
        try
        {
            if (key.EncodedParameters?.RawData is not { } parameters)
            {
                return false;
            }

            var reader = new AsnReader(parameters, AsnEncodingRules.DER);
            return reader.ReadObjectIdentifier() == P256Oid;
        }
        catch (AsnContentException)
        {
            return false;
        }
    }

    /// <summary>The CSR's one URI SAN as a SPIFFE ID; none, several, or one that is not a SPIFFE service ID is refused.</summary>
    private static SpiffeId SingleSpiffeUri(CertificateRequest csr)
    {
        var sans = csr.CertificateExtensions.Where(e => e.Oid?.Value == SanOid).ToList();
        if (sans.Count != 1)
        {
            throw new CsrException(sans.Count == 0 ? "the CSR has no subject alternative names (it needs one SPIFFE URI)" : "the CSR has more than one subject alternative name extension");
        }

        IReadOnlyList<string> uris;
        try
        {
            uris = UriSans(sans[0].RawData);
        }
        catch (AsnContentException e)
        {
            throw new CsrException($"the CSR's subject alternative names cannot be read: {e.Message}");
        }

        if (uris.Count != 1)
        {
            throw new CsrException($"the CSR must carry exactly one URI SAN, not {uris.Count}");
        }

        return SpiffeId.TryParse(uris[0], out var id)
            ? id
            : throw new CsrException($"the CSR's URI SAN \"{uris[0]}\" is not a SPIFFE service ID (spiffe://<trust-domain>/ns/<ns>/dc/<dc>/svc/<service>)");
    }

    /// <summary>The URIs in a subjectAltName extension's value (throws <see cref="AsnContentException"/> on a malformed one).</summary>
    internal static IReadOnlyList<string> UriSans(byte[] extensionValue)
    {
        var uris = new List<string>();
        var names = new AsnReader(extensionValue, AsnEncodingRules.DER).ReadSequence();
        while (names.HasData)
        {
            var tag = names.PeekTag();
            if (tag == new Asn1Tag(TagClass.ContextSpecific, 6))
            {
                uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, tag));
            }
            else
            {
                names.ReadEncodedValue();
            }
        }

        return uris;
    }

    private static void AddCaExtensions(CertificateRequest request, string trustDomain)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri($"{SpiffeId.Scheme}://{trustDomain}"));
        request.CertificateExtensions.Add(san.Build());
    }

    internal static AsymmetricAlgorithm LoadKey(string pem)
    {
        // The CA's own key, made by CreateRoot: PKCS#8 of EC or RSA.
        var ec = ECDsa.Create();
        try
        {
            ec.ImportFromPem(pem);
            return ec;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            // Not an EC key (or labelled "RSA PRIVATE KEY"): RSA is the other kind a CA may have.
            ec.Dispose();
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return rsa;
        }
    }

    private static X509SignatureGenerator Generator(AsymmetricAlgorithm key) => key switch
    {
        ECDsa ec => X509SignatureGenerator.CreateForECDsa(ec),
        RSA rsa => X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1),
        _ => throw new NotSupportedException(key.GetType().Name),
    };
}
