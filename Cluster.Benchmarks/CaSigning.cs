using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Cluster.Contracts.State;
using Cluster.Server.Connect;

namespace Cluster.Benchmarks;

/// <summary>
/// Leaf signatures per second per core, rate limiting off: the CA's SignLeaf in this process on
/// pre-made CSRs (one thread, then N), its parts alone (to show where a signature's time goes),
/// then end to end through a `cluster agent -dev` (ServerRpc Sign over gRPC, the path a client
/// agent's leaf cache takes), beside `openssl speed ecdsap256` in the same invocation.
/// </summary>
internal static class CaSigning
{
    private const int Services = 256;

    public sealed record Result(
        double OpensslSign,
        double OpensslVerify,
        IReadOnlyList<(string Name, double PerSecond, double PerCpuSecond)> InProcess,
        IReadOnlyList<(string Name, double PerSecond)> Parts,
        (double PerSecond, double PerAgentCpuSecond, double PerTotalCpuSecond, double AgentCpuShare, LoadResult Load, int Callers, double IdleAgentCores) EndToEnd);

    public static async Task<Result> RunAsync(TimeSpan duration, int threads, int callers)
    {
        var (sslSign, sslVerify) = await DevAgent.OpensslSpeedAsync(3);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"openssl speed ecdsap256: {sslSign:F0} sign/s, {sslVerify:F0} verify/s"));

        const string trustDomain = "11111111-2222-3333-4444-555555555555.consul";
        var now = DateTimeOffset.UtcNow;
        var ca = CertificateAuthority.CreateRoot(trustDomain, now, TimeSpan.FromDays(3650), DevAgent.Serial());
        var requests = Enumerable.Range(0, Services).Select(i =>
        {
            var id = new SpiffeId(trustDomain, "default", "dc1", $"svc-{i}");
            return (Id: id, Csr: DevAgent.Csr(id));
        }).ToArray();
        var ttl = TimeSpan.FromHours(72);

        void SignOne(int i)
        {
            var (id, csr) = requests[i % Services];
            CertificateAuthority.SignLeaf(ca, csr, id, now, ttl, DevAgent.Serial());
        }

        var inProcess = new List<(string, double, double)>();
        foreach (var n in new[] { 1, threads }.Distinct())
        {
            Console.Error.WriteLine($"in-process SignLeaf, {n} thread(s)");
            var (perSecond, perCpu) = Threads(n, duration, SignOne);
            inProcess.Add(($"CertificateAuthority.SignLeaf, {n} thread{(n == 1 ? "" : "s")}", perSecond, perCpu));
        }

        // What-if: the same work with the CA's key and certificate loaded once (the product loads both from PEM per signature).
        Console.Error.WriteLine("in-process what-if: CA key and certificate loaded once, 1 thread");
        using var loadedKey = ECDsa.Create();
        loadedKey.ImportFromPem(ca.PrivateKeyPem);
        using var loadedCert = X509Certificate2.CreateFromPem(ca.CertificatePem);
        var (cachedPerSecond, cachedPerCpu) = Threads(1, duration, i => BuildLeaf(loadedCert, loadedKey, CertificateAuthority.ParseCsr(requests[i % Services].Csr), requests[i % Services].Id, now, ttl));
        inProcess.Add(("what-if (the benchmark's copy of SignLeaf): CA key and certificate loaded once, 1 thread", cachedPerSecond, cachedPerCpu));

        // After a rotation to RSA 2048 (as figure 2 does) the leader signs with an RSA key.
        var rsaCa = CertificateAuthority.CreateRoot(trustDomain, now, TimeSpan.FromDays(3650), DevAgent.Serial(), rsaBits: 2048);
        Console.Error.WriteLine("in-process SignLeaf, RSA 2048 CA, 1 thread");
        var (rsaPerSecond, rsaPerCpu) = Threads(1, duration, i => CertificateAuthority.SignLeaf(rsaCa, requests[i % Services].Csr, requests[i % Services].Id, now, ttl, DevAgent.Serial()));
        inProcess.Add(("CertificateAuthority.SignLeaf with an RSA 2048 CA (after figure 2's rotation), 1 thread", rsaPerSecond, rsaPerCpu));

        // Its parts, one thread each, to show where a signature's time goes.
        Console.Error.WriteLine("in-process parts");
        using var caKey = ECDsa.Create();
        caKey.ImportFromPem(ca.PrivateKeyPem);
        using var caCert = X509Certificate2.CreateFromPem(ca.CertificatePem);
        var csrs = requests.Select(r => CertificateAuthority.ParseCsr(r.Csr)).ToArray();
        var leafPem = CertificateAuthority.SignLeaf(ca, requests[0].Csr, requests[0].Id, now, ttl, DevAgent.Serial());
        var digest = SHA256.HashData(new byte[512]);
        var signature = caKey.SignHash(digest);
        var parts = new List<(string, double)>
        {
            ("ECDSA P-256 sign of a digest (.NET over OpenSSL; openssl speed's operation)", Threads(1, duration, _ => caKey.SignHash(digest)).PerCpuSecond),
            ("ECDSA P-256 verify of a digest", Threads(1, duration, _ => caKey.VerifyHash(digest, signature)).PerCpuSecond),
            ("CertificateAuthority.ParseCsr (PEM, the CSR's signature verified, key checked)", Threads(1, duration, i => CertificateAuthority.ParseCsr(requests[i % Services].Csr)).PerCpuSecond),
            ("ECDsa.ImportFromPem of the CA's key (SignLeaf does it per signature)", Threads(1, duration, _ =>
            {
                using var key = ECDsa.Create();
                key.ImportFromPem(ca.PrivateKeyPem);
            }).PerCpuSecond),
            ("X509Certificate2.CreateFromPem of the CA's certificate (SignLeaf does it per signature)", Threads(1, duration, _ =>
            {
                using var cert = X509Certificate2.CreateFromPem(ca.CertificatePem);
            }).PerCpuSecond),
            ("the leaf built, signed and written as PEM, CA key and certificate already loaded", Threads(1, duration, i => BuildLeaf(caCert, caKey, csrs[i % Services], requests[i % Services].Id, now, ttl)).PerCpuSecond),
            ("X509Certificate2.CreateFromPem of the issued leaf (ServerNode.SignHere does it per signature)", Threads(1, duration, _ =>
            {
                using var cert = X509Certificate2.CreateFromPem(leafPem);
            }).PerCpuSecond),
        };

        Console.Error.WriteLine($"end to end: a dev agent, ServerRpc Sign over gRPC, {callers} callers");
        await using var agent = await DevAgent.StartAsync("ca-sign");
        await agent.ConfigureCaAsync(new JsonObject { ["CSRMaxPerSecond"] = 0 });
        var agentTrustDomain = await agent.TrustDomainAsync();
        var remote = Enumerable.Range(0, Services).Select(i =>
        {
            var service = $"svc-{i}";
            return new SignRequest { Service = service, Csr = DevAgent.Csr(new SpiffeId(agentTrustDomain, "default", "dc1", service)), Forward = true };
        }).ToArray();
        using var channel = agent.Channel();
        var client = new ServerRpc.ServerRpcClient(channel);
        var next = 0;
        async Task Sign() => await client.SignAsync(remote[(int)((uint)Interlocked.Increment(ref next) % Services)]);
        await LoadRunner.RunAsync(callers, TimeSpan.Zero, TimeSpan.FromSeconds(5), Sign); // JIT and connections warm
        await Task.Delay(TimeSpan.FromSeconds(5)); // the agent's tiered JIT and finalizers catch up after the warm-up
        var idle = new DevAgent.CpuWindow(agent);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var (idleWall, _, idleCpu) = idle.Stop();
        var window = new DevAgent.CpuWindow(agent);
        var load = await LoadRunner.RunAsync(callers, TimeSpan.Zero, duration, Sign);
        var (wall, ownCpu, agentCpu) = window.Stop();
        var e2e = (
            load.PerSecond,
            load.Operations / agentCpu.TotalSeconds,
            load.Operations / (agentCpu + ownCpu).TotalSeconds,
            agentCpu.TotalSeconds / wall.TotalSeconds,
            load,
            callers,
            idleCpu.TotalSeconds / idleWall.TotalSeconds);
        return new Result(sslSign, sslVerify, inProcess, parts, e2e);
    }

    /// <summary>What SignLeaf does after checking the CSR, as of this writing, with the CA's key and certificate loaded once (a what-if: the product loads them per signature).</summary>
    private static string BuildLeaf(X509Certificate2 caCert, ECDsa caKey, CertificateRequest csr, SpiffeId id, DateTimeOffset now, TimeSpan ttl)
    {
        var leaf = new CertificateRequest(new X500DistinguishedName($"CN={id.Service}"), csr.PublicKey, HashAlgorithmName.SHA256);
        leaf.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        leaf.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement | X509KeyUsageFlags.KeyEncipherment, true));
        leaf.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(id.ToUri());
        leaf.CertificateExtensions.Add(san.Build());
        leaf.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(csr.PublicKey, false));
        leaf.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(caCert, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        using var issued = leaf.Create(caCert.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), now.AddMinutes(-1), now + ttl, DevAgent.Serial());
        return issued.ExportCertificatePem();
    }

    /// <summary>Runs <paramref name="operation"/> on <paramref name="threads"/> dedicated threads for <paramref name="duration"/> (after a 2 s warm-up, for the tiered JIT): total per second, and per CPU-second of this process.</summary>
    public static (double PerSecond, double PerCpuSecond) Threads(int threads, TimeSpan duration, Action<int> operation)
    {
        Run(TimeSpan.FromSeconds(2));
        var window = new DevAgent.CpuWindow(null);
        var count = Run(duration);
        var (wall, cpu, _) = window.Stop();
        return (count / wall.TotalSeconds, count / cpu.TotalSeconds);

        long Run(TimeSpan length)
        {
            var end = Stopwatch.GetTimestamp() + (long)(length.TotalSeconds * Stopwatch.Frequency);
            var counts = new long[threads];
            var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                var i = t * 7919;
                var done = 0L;
                while (Stopwatch.GetTimestamp() < end)
                {
                    operation(i++);
                    done++;
                }

                counts[t] = done;
            })).ToList();
            workers.ForEach(w => w.Start());
            workers.ForEach(w => w.Join());
            return counts.Sum();
        }
    }

    public static void Print(Result r)
    {
        var cores = Environment.ProcessorCount;
        Console.WriteLine();
        Console.WriteLine($"## 1. Leaf signatures per second per core (CSR rate limit off; {cores} cores, shared by every process of the run)");
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"openssl speed -seconds 3 ecdsap256 (1 thread): {r.OpensslSign:N0} sign/s, {r.OpensslVerify:N0} verify/s"));
        Console.WriteLine();
        Console.WriteLine("| path | signatures/s (wall) | per CPU-second (= per core) | / openssl sign/s |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (name, perSecond, perCpu) in r.InProcess)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| in-process {name} | {perSecond:N0} | {perCpu:N0} | {perCpu / r.OpensslSign:F3} |"));
        }

        var e = r.EndToEnd;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| end to end: gRPC Sign to a `cluster agent -dev`, {e.Callers} callers (p50 {LoadResult.FormatMicros(e.Load.P50Micros)}, p99 {LoadResult.FormatMicros(e.Load.P99Micros)}) | {e.PerSecond:N0} | {e.PerAgentCpuSecond:N0} of the agent's CPU ({e.PerTotalCpuSecond:N0} counting the caller's); agent busy {e.AgentCpuShare:F2} cores (idle: {e.IdleAgentCores:F3}) | {e.PerAgentCpuSecond / r.OpensslSign:F3} |"));
        Console.WriteLine();
        Console.WriteLine("| part of a signature, alone, 1 thread | operations per CPU-second |");
        Console.WriteLine("|---|---:|");
        foreach (var (name, perSecond) in r.Parts)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {perSecond:N0} |"));
        }
    }
}
