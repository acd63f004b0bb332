using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Cluster.Testing;
using Cluster.Testing.Raft;
using Cluster.Testing.Raft.Wire;
using Google.Protobuf;
using Grpc.Net.Client;

namespace Cluster.Benchmarks;

/// <summary>
/// Three Raft servers (Cluster.RaftNode) on loopback with fsync on, and beside them in
/// the same run: the disk's fsync ceiling (a probe, and fio when installed), the loopback round
/// trip, and etcd 3.4 (three members) taking puts of the same size from the same load
/// generator at the same concurrency. Then leader failover: SIGKILL to the first accepted write.
/// </summary>
internal static class RaftBenchmark
{
    private const int ValueBytes = 256;
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(1);

    public static async Task RunAsync(TimeSpan duration, int[] concurrencies, int failovers, bool withEtcd)
    {
        var root = Path.Combine(PeerProcess.RepoRoot, ".bench-data", "raft-" + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture));
        Directory.CreateDirectory(root);
        try
        {
            Console.WriteLine($"# Raft benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}; data on {root} (same disk for everyone); {ValueBytes}-byte values; {WarmUp.TotalSeconds}s warm-up, {duration.TotalSeconds}s measured per cell");
            var probe = FsyncProbe(Path.Combine(root, "probe"), TimeSpan.FromSeconds(2));
            Console.WriteLine($"disk: {probe.PerSecond:F0} fsyncs/s from a {ValueBytes}-byte append+fdatasync probe (mean {probe.MeanMs:F2} ms){Fio(root)}");

            var value = ByteString.CopyFrom(new byte[ValueBytes]);
            var ours = new Dictionary<int, Result>();
            double rttMs;
            double fsyncsPerCommit;
            var failoverMs = new List<double>();
            // RAFT_NODE_ARGS passes extra server flags (e.g. "--tick-ms 100") for experiments.
            var nodeArgs = (Environment.GetEnvironmentVariable("RAFT_NODE_ARGS") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            await using (var cluster = await RaftProcessCluster.StartAsync(3, Path.Combine(root, "ours"), nodeArgs))
            {
                var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
                var client = cluster.Client(cluster.PortOf(leader));
                rttMs = await RoundTripAsync(client);
                var before = await cluster.StatusAsync(leader, TimeSpan.FromSeconds(5));
                foreach (var concurrency in concurrencies)
                {
                    ours[concurrency] = await LoadAsync(concurrency, duration, (worker, seq) =>
                        client.PutAsync(new Cluster.Testing.Raft.Wire.PutRequest { Key = $"k{worker}-{seq % 1000}", Value = value }).ResponseAsync);
                }

                var after = await cluster.StatusAsync(leader, TimeSpan.FromSeconds(5));
                fsyncsPerCommit = (double)(after!.Fsyncs - before!.Fsyncs) / Math.Max(1, after.Proposals - before.Proposals);
                for (var i = 0; i < failovers; i++)
                {
                    failoverMs.Add(await FailoverAsync(cluster, value));
                }
            }

            var etcd = new Dictionary<int, Result>();
            if (withEtcd)
            {
                await using var members = await EtcdCluster.StartAsync(Path.Combine(root, "etcd"));
                using var channel = GrpcChannel.ForAddress(new Uri($"http://127.0.0.1:{members.LeaderClientPort}"));
                var kv = new Etcd.KV.KVClient(channel);
                foreach (var concurrency in concurrencies)
                {
                    etcd[concurrency] = await LoadAsync(concurrency, duration, (worker, seq) =>
                        kv.PutAsync(new Etcd.PutRequest { Key = ByteString.CopyFromUtf8($"k{worker}-{seq % 1000}"), Value = value }).ResponseAsync);
                }
            }

            var floor = probe.MeanMs + rttMs;
            Console.WriteLine();
            Console.WriteLine($"one fsync + one loopback round trip = {probe.MeanMs:F2} + {rttMs:F2} = {floor:F2} ms; fsyncs per commit at the leader over all cells: {fsyncsPerCommit:F3}");
            Console.WriteLine();
            Console.WriteLine("| proposers | ours commits/s | ours p50 ms | ours p99 ms | etcd puts/s | etcd p50 ms | etcd p99 ms | ours/etcd throughput | ours p50 / (fsync+RTT) |");
            Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var concurrency in concurrencies)
            {
                var o = ours[concurrency];
                var e = etcd.GetValueOrDefault(concurrency);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {concurrency} | {o.PerSecond:F0} | {o.P50Ms:F2} | {o.P99Ms:F2} | {e?.PerSecond ?? 0:F0} | {e?.P50Ms ?? 0:F2} | {e?.P99Ms ?? 0:F2} | {(e is null ? 0 : o.PerSecond / e.PerSecond):F2}x | {o.P50Ms / floor:F2}x |"));
            }

            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"leader failover (SIGKILL to first accepted write, default timeouts: 50 ms tick, 10-20 tick election timeout): {string.Join(", ", failoverMs.Select(f => $"{f:F0}"))} ms; median {Median(failoverMs):F0} ms, max {failoverMs.DefaultIfEmpty().Max():F0} ms"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    internal sealed record Result(double PerSecond, double P50Ms, double P99Ms);

    /// <summary>Appends <see cref="ValueBytes"/> and fdatasyncs, as a log does per commit; the disk's ceiling for one writer.</summary>
    private static (double PerSecond, double MeanMs) FsyncProbe(string directory, TimeSpan duration)
    {
        Directory.CreateDirectory(directory);
        using var file = new FileStream(Path.Combine(directory, "probe"), FileMode.Create, FileAccess.Write, FileShare.None, 4096);
        var buffer = new byte[ValueBytes];
        var start = Stopwatch.GetTimestamp();
        var count = 0;
        while (Stopwatch.GetElapsedTime(start) < duration)
        {
            file.Write(buffer);
            file.Flush(flushToDisk: true);
            count++;
        }

        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return (count / seconds, seconds * 1000 / count);
    }

    private static string Fio(string root)
    {
        try
        {
            var directory = Path.Combine(root, "fio");
            Directory.CreateDirectory(directory);
            using var process = Process.Start(new ProcessStartInfo("fio", ["--name=fsync", $"--directory={directory}", "--rw=write", $"--bs={ValueBytes}", "--size=16m", "--fdatasync=1", "--runtime=2", "--time_based", "--output-format=json"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            using var json = JsonDocument.Parse(output);
            var iops = json.RootElement.GetProperty("jobs")[0].GetProperty("write").GetProperty("iops").GetDouble();
            return string.Create(CultureInfo.InvariantCulture, $"; fio (write {ValueBytes} B + fdatasync each): {iops:F0} writes/s");
        }
        catch (Exception exception) when (exception is System.ComponentModel.Win32Exception or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return "; fio not available";
        }
    }

    private static async Task<double> RoundTripAsync(Cluster.Testing.Raft.Wire.Kv.KvClient client)
    {
        var samples = new List<double>();
        for (var i = 0; i < 2000; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await client.KeysAsync(new KeysRequest());
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        return Median(samples.Skip(200).ToList());
    }

    /// <summary>Closed loop: <paramref name="concurrency"/> workers, each with one request outstanding.</summary>
    internal static async Task<Result> LoadAsync(int concurrency, TimeSpan duration, Func<int, long, Task> operation)
    {
        using var warm = new CancellationTokenSource(WarmUp);
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            for (long seq = 0; !warm.IsCancellationRequested; seq++)
            {
                await operation(w, seq);
            }
        })));

        var latencies = new List<double>[concurrency];
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            var mine = latencies[w] = [];
            for (long seq = 0; Stopwatch.GetElapsedTime(start) < duration; seq++)
            {
                var begin = Stopwatch.GetTimestamp();
                await operation(w, seq + 1_000_000);
                mine.Add(Stopwatch.GetElapsedTime(begin).TotalMilliseconds);
            }
        })));
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToList();
        return new Result(all.Count / elapsed, Percentile(all, 0.50), Percentile(all, 0.99));
    }

    /// <summary>Kills the leader and measures until any other server accepts a write.</summary>
    private static async Task<double> FailoverAsync(RaftProcessCluster cluster, ByteString value)
    {
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        var others = cluster.Ids.Where(id => id != leader).ToList();
        var start = Stopwatch.GetTimestamp();
        await cluster.KillAsync(leader);
        double elapsed;
        while (true)
        {
            var attempts = others.Select(id => cluster.TryPutAsync(id, "failover", value, TimeSpan.FromMilliseconds(500))).ToList();
            if ((await Task.WhenAll(attempts)).Any(index => index is not null))
            {
                elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                break;
            }

            if (Stopwatch.GetElapsedTime(start) > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException("no write accepted within 30 s of killing the leader");
            }

            await Task.Delay(5);
        }

        await cluster.RestartAsync(leader);
        await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        return elapsed;
    }

    private static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];

    private static double Median(List<double> values) => values.Count == 0 ? 0 : Percentile([.. values.Order()], 0.5);
}
