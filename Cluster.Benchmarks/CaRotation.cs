using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Cluster.Agent.Client;
using Cluster.Agent.Connect;
using Cluster.Server.Nodes;
using Cluster.Testing.Agent;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Benchmarks;

/// <summary>
/// A root rotation under the CSR rate limit: one `cluster agent -dev` (the leader), and in this
/// process N simulated agents, each the product's own <see cref="CaRootsWatch"/> and
/// <see cref="LeafCertificates"/> (one service each, the cluster size they see is N), all over
/// one real <see cref="ClientNode"/> (a gossip member whose server pool holds the gRPC channel).
/// Every agent gets its leaf with the limit off, the limit is set to R/s, the root is rotated
/// (EC P-256 to RSA 2048, cross-signed), and the clock runs until every agent holds a leaf of the
/// new root; the signing requests and the rate limit's refusals are counted on the way.
/// </summary>
internal static class CaRotation
{
    public sealed record Result(
        int Agents,
        double Rate,
        TimeSpan Window,
        TimeSpan FirstIssue,
        TimeSpan RootsSeenByAll,
        TimeSpan AllRenewed,
        double P50,
        double P99,
        int Renewed,
        long Signed,
        long Refused,
        long Failed,
        double AgentCpuSeconds,
        bool TimedOut);

    public static async Task<Result> RunAsync(int agents, double rate, TimeSpan timeout)
    {
        await using var server = await DevAgent.StartAsync("ca-rotate");
        await server.ConfigureCaAsync(new JsonObject { ["CSRMaxPerSecond"] = 0 });
        var dir = Path.Combine(Path.GetTempPath(), $"cluster-bench-ca-{Guid.NewGuid():N}");
        var client = await ClientNode.StartAsync(
            new ServerOptions
            {
                NodeName = "bench-agents",
                DataDirectory = dir,
                SerfLanPort = AgentProcess.FreePorts(1)[0],
                RetryJoin = [server.Process.LanAddress],
                RetryInterval = TimeSpan.FromSeconds(1),
            },
            NullLoggerFactory.Instance,
            new Random(19));
        var sim = Array.Empty<(CaRootsWatch Roots, LeafCertificates Leaves, string Service)>();
        try
        {
            using (var joined = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            {
                while (client.Pool.Servers.Count == 0)
                {
                    await client.Lan.Changed.WaitAsync(joined.Token);
                }
            }

            var servers = new CountingConnection(client);
            var logger = NullLogger.Instance;
            sim = [.. Enumerable.Range(0, agents).Select(i =>
            {
                var roots = new CaRootsWatch(servers, TimeProvider.System, logger);
                var leaves = new LeafCertificates(servers, roots, "dc1", () => agents, TimeProvider.System, new Random(i), logger);
                return (roots, leaves, $"svc-{i}");
            })];

            // Every agent's first leaf, the limit off.
            Console.Error.WriteLine($"rotation: {agents} agents get their first leaves");
            var clock = Stopwatch.StartNew();
            using var stop = new CancellationTokenSource(timeout);
            var first = await Task.WhenAll(sim.Select(a => a.Leaves.WaitAsync(a.Service, 0, TimeSpan.FromMinutes(5), stop.Token)));
            var firstIssue = clock.Elapsed;
            var oldRoot = (string)(await server.CaAsync(TimeSpan.FromSeconds(10)))["ActiveRootID"]!;
            if (first.Any(l => l.RootId != oldRoot))
            {
                throw new InvalidOperationException("a first leaf is not of the active root");
            }

            // The default limit back, seen by every agent before the rotation.
            await server.ConfigureCaAsync(new JsonObject { ["CSRMaxPerSecond"] = rate });
            while (sim.Any(a => a.Roots.Current?.Ca.Config.CsrMaxPerSecond != rate))
            {
                await Task.Delay(100, stop.Token);
            }

            servers.Reset();
            var agentCpu = server.CpuTime();
            Console.Error.WriteLine($"rotation: root rotated to RSA 2048, {rate}/s CSR limit; waiting for {agents} renewals (at most {timeout})");
            clock.Restart();
            await server.ConfigureCaAsync(new JsonObject { ["PrivateKeyType"] = "rsa", ["PrivateKeyBits"] = 2048, ["CSRMaxPerSecond"] = rate });
            var newRoot = (string)(await server.CaAsync(TimeSpan.FromSeconds(10)))["ActiveRootID"]!;
            if (newRoot == oldRoot)
            {
                throw new InvalidOperationException("the configuration did not rotate the root");
            }

            var rootsSeen = Task.Run(async () =>
            {
                while (sim.Any(a => a.Roots.Current?.Active.Id != newRoot))
                {
                    await Task.Delay(20, stop.Token);
                }

                return clock.Elapsed;
            });
            var renewedAt = new double[agents];
            Array.Fill(renewedAt, double.NaN);
            var renewals = sim.Select(async (a, i) =>
            {
                var leaf = a.Leaves.Peek(a.Service)!;
                while (leaf.RootId != newRoot)
                {
                    leaf = await a.Leaves.WaitAsync(a.Service, leaf.Index, TimeSpan.FromMinutes(1), stop.Token);
                }

                renewedAt[i] = clock.Elapsed.TotalSeconds;
            }).ToArray();
            var all = Task.WhenAll(renewals);
            while (!all.IsCompleted)
            {
                await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(15)));
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {clock.Elapsed.TotalSeconds:F0} s: {renewedAt.Count(t => !double.IsNaN(t))}/{agents} renewed; {servers.Signed} signed, {servers.Refused} refused by the limit, {servers.Failed} failed"));
            }

            var timedOut = false;
            try
            {
                await all;
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
            }

            var allRenewed = clock.Elapsed;
            var rootsSeenByAll = rootsSeen.IsCompletedSuccessfully ? rootsSeen.Result : TimeSpan.MaxValue;
            var done = renewedAt.Where(t => !double.IsNaN(t)).Order().ToArray();
            double Percentile(double p) => done.Length == 0 ? double.NaN : done[(int)Math.Min(done.Length - 1, Math.Floor(p * done.Length))];
            return new Result(
                agents,
                rate,
                LeafRenewal.JitterWindow(agents, rate),
                firstIssue,
                rootsSeenByAll,
                allRenewed,
                Percentile(0.5),
                Percentile(0.99),
                done.Length,
                servers.Signed,
                servers.Refused,
                servers.Failed,
                (server.CpuTime() - agentCpu).TotalSeconds,
                timedOut);
        }
        finally
        {
            await Task.WhenAll(sim.Select(async a =>
            {
                await a.Leaves.DisposeAsync();
                await a.Roots.DisposeAsync();
            }));
            await client.DisposeAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    public static void Print(Result r)
    {
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"## 2. Root rotation: {r.Agents:N0} agents renew under CSRMaxPerSecond {r.Rate} (stagger window max(30 s, agents / rate) = {r.Window.TotalSeconds:F0} s)"));
        Console.WriteLine();
        Console.WriteLine("| what | figure |");
        Console.WriteLine("|---|---|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| first leaves for all agents, limit off | {r.FirstIssue.TotalSeconds:F1} s ({r.Agents / r.FirstIssue.TotalSeconds:N0}/s) |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| new roots seen by every agent (blocking query) | {(r.RootsSeenByAll == TimeSpan.MaxValue ? "not all" : $"{r.RootsSeenByAll.TotalSeconds:F2} s")} after the rotation |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| every agent holding a leaf of the new root | {(r.TimedOut ? $"NOT REACHED: {r.Renewed:N0} of {r.Agents:N0} after" : "")} {r.AllRenewed.TotalSeconds:F1} s |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| renewal time after the rotation, p50 / p99 | {r.P50:F1} s / {r.P99:F1} s |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| signing requests during the rotation | {r.Signed + r.Refused + r.Failed:N0}: {r.Signed:N0} signed, {r.Refused:N0} refused by the rate limit ({(double)r.Refused / Math.Max(1, r.Signed + r.Refused):P1}), {r.Failed:N0} failed otherwise |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| signing rate achieved / limit | {r.Signed / r.AllRenewed.TotalSeconds:F1}/s of {r.Rate}/s ({r.Signed / r.AllRenewed.TotalSeconds / r.Rate:P0}); the ideal, all at the limit: {r.Agents / r.Rate:F0} s |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| the server's CPU over the rotation | {r.AgentCpuSeconds:F1} s |"));
    }
}
