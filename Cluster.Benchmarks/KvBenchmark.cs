using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Cluster.Testing.Agent;

namespace Cluster.Benchmarks;

/// <summary>
/// The server nodes' KV over HTTP: three `cluster agent -server` processes (fsync on) beside
/// three etcd 3.4 members through etcd's HTTP/JSON gateway, driven by the same load generator
/// (one HttpClient, one connection per caller) at the same concurrency with 256-byte values:
/// PUTs, default and ?stale GETs against etcd's linearizable and serializable ranges. Then
/// blocking queries: N watchers long-polling one key, woken by one write.
/// </summary>
internal static class KvBenchmark
{
    private const int ValueBytes = 256;

    public static async Task RunAsync(TimeSpan duration, int[] concurrencies, int watchers, bool withEtcd)
    {
        Console.WriteLine($"# KV benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}; {ValueBytes}-byte values; 1s warm-up, {duration.TotalSeconds}s measured per cell; one client process, one connection per caller, requests to the leader");
        var value = new string('v', ValueBytes);
        var ours = new Dictionary<(string, int), RaftBenchmark.Result>();
        var etcd = new Dictionary<(string, int), RaftBenchmark.Result>();
        (double P50, double P99, double Max, int Woken, double BytesPerWatcher) wake;
        await using (var cluster = await AgentCluster.StartAsync(3))
        {
            var leader = await cluster.LeaderAsync(TimeSpan.FromSeconds(30));
            foreach (var concurrency in concurrencies)
            {
                using var http = Client(leader.HttpAddress, concurrency);
                ours[("put", concurrency)] = await RaftBenchmark.LoadAsync(concurrency, duration, async (w, seq) =>
                {
                    using var response = await http.PutAsync($"/v1/kv/bench/{w}/{seq % 1000}", new ByteArrayContent(Encoding.ASCII.GetBytes(value)));
                    response.EnsureSuccessStatusCode();
                });
                foreach (var (mode, query) in new[] { ("get", ""), ("get-stale", "?stale") })
                {
                    ours[(mode, concurrency)] = await RaftBenchmark.LoadAsync(concurrency, duration, async (w, seq) =>
                    {
                        using var response = await http.GetAsync($"/v1/kv/bench/{w}/{seq % 1000}{query}");
                        if (response.StatusCode != HttpStatusCode.OK && response.StatusCode != HttpStatusCode.NotFound)
                        {
                            throw new InvalidOperationException($"GET answered {response.StatusCode}");
                        }

                        await response.Content.ReadAsByteArrayAsync();
                    });
                }
            }

            wake = await WatchersAsync(leader, watchers);
        }

        if (withEtcd)
        {
            var root = Path.Combine(Testing.PeerProcess.RepoRoot, ".bench-data", "kv-etcd-" + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture));
            Directory.CreateDirectory(root);
            try
            {
                await using var members = await EtcdCluster.StartAsync(root);
                var b64Value = Convert.ToBase64String(Encoding.ASCII.GetBytes(value));
                foreach (var concurrency in concurrencies)
                {
                    using var http = Client(new Uri($"http://127.0.0.1:{members.LeaderClientPort}"), concurrency);
                    etcd[("put", concurrency)] = await RaftBenchmark.LoadAsync(concurrency, duration, async (w, seq) =>
                    {
                        var body = $"{{\"key\":\"{Key(w, seq)}\",\"value\":\"{b64Value}\"}}";
                        using var response = await http.PostAsync("/v3/kv/put", new StringContent(body, Encoding.ASCII, "application/json"));
                        response.EnsureSuccessStatusCode();
                    });
                    foreach (var (mode, serializable) in new[] { ("get", false), ("get-stale", true) })
                    {
                        etcd[(mode, concurrency)] = await RaftBenchmark.LoadAsync(concurrency, duration, async (w, seq) =>
                        {
                            var body = $"{{\"key\":\"{Key(w, seq)}\",\"serializable\":{(serializable ? "true" : "false")}}}";
                            using var response = await http.PostAsync("/v3/kv/range", new StringContent(body, Encoding.ASCII, "application/json"));
                            response.EnsureSuccessStatusCode();
                            await response.Content.ReadAsByteArrayAsync();
                        });
                    }
                }
            }
            finally
            {
                Directory.Delete(root, recursive: true);
            }
        }

        Console.WriteLine();
        Console.WriteLine("| operation | callers | ours ops/s | ours p50 ms | ours p99 ms | etcd ops/s | etcd p50 ms | etcd p99 ms | ours/etcd |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var mode in new[] { "put", "get", "get-stale" })
        {
            foreach (var concurrency in concurrencies)
            {
                var o = ours[(mode, concurrency)];
                var e = etcd.GetValueOrDefault((mode, concurrency));
                var label = mode switch { "put" => "PUT", "get" => "GET default (etcd: linearizable)", _ => "GET ?stale (etcd: serializable)" };
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {label} | {concurrency} | {o.PerSecond:F0} | {o.P50Ms:F2} | {o.P99Ms:F2} | {e?.PerSecond ?? 0:F0} | {e?.P50Ms ?? 0:F2} | {e?.P99Ms ?? 0:F2} | {(e is null ? 0 : o.PerSecond / e.PerSecond):F2}x |"));
            }
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"blocking queries: {watchers} watchers on one key, one write: {wake.Woken} woken; wake-up p50 {wake.P50:F0} ms, p99 {wake.P99:F0} ms, max {wake.Max:F0} ms; server memory per idle watcher {wake.BytesPerWatcher / 1024:F2} KiB (RSS growth / watchers, connections included)"));
    }

    private static string Key(int worker, long seq) => Convert.ToBase64String(Encoding.ASCII.GetBytes($"bench/{worker}/{seq % 1000}"));

    private static HttpClient Client(Uri address, int connections) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = connections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        UseProxy = false,
    })
    {
        BaseAddress = address,
        Timeout = TimeSpan.FromMinutes(10),
    };

    /// <summary>
    /// Opens <paramref name="count"/> blocking GETs on one key at its current index, waits until
    /// the server holds them all (established connections counted by the kernel, then RSS settled),
    /// writes the key once and times each response from just before the write.
    /// </summary>
    private static async Task<(double P50, double P99, double Max, int Woken, double BytesPerWatcher)> WatchersAsync(AgentProcess server, int count)
    {
        using var http = Client(server.HttpAddress, count + 16);
        using (var put = await http.PutAsync("/v1/kv/watched", new StringContent("0")))
        {
            put.EnsureSuccessStatusCode();
        }

        using var first = await http.GetAsync("/v1/kv/watched");
        var index = first.Headers.GetValues("X-Consul-Index").First();
        GC.Collect();
        var rssBefore = Rss(server.Pid);
        var writeAt = 0L;
        var wokenAt = new double[count];
        var requests = new Task[count];
        using var opening = new SemaphoreSlim(256); // connect in waves; the kernel's accept backlog is finite
        for (var i = 0; i < count; i++)
        {
            var slot = i;
            await opening.WaitAsync();
            requests[i] = Task.Run(async () =>
            {
                var request = http.GetAsync($"/v1/kv/watched?index={index}&wait=5m", HttpCompletionOption.ResponseHeadersRead);
                _ = Task.Delay(50).ContinueWith(_ => opening.Release(), TaskScheduler.Default);
                using var response = await request;
                await response.Content.ReadAsByteArrayAsync();
                wokenAt[slot] = Stopwatch.GetElapsedTime(Volatile.Read(ref writeAt)).TotalMilliseconds;
            });
        }

        // All connected, and the server's memory no longer growing: every watcher is waiting.
        var port = server.HttpPort;
        for (var i = 0; i < 600 && Established(port) < count; i++)
        {
            await Task.Delay(100);
        }

        long previous;
        var rss = Rss(server.Pid);
        do
        {
            previous = rss;
            await Task.Delay(1000);
            rss = Rss(server.Pid);
        }
        while (rss > previous + (64 << 10));

        var perWatcher = (double)(rss - rssBefore) / count;
        Volatile.Write(ref writeAt, Stopwatch.GetTimestamp());
        using (var put = await http.PutAsync("/v1/kv/watched", new StringContent("1")))
        {
            put.EnsureSuccessStatusCode();
        }

        await Task.WhenAll(requests).WaitAsync(TimeSpan.FromMinutes(2));
        var sorted = wokenAt.Order().ToArray();
        return (sorted[sorted.Length / 2], sorted[(int)(sorted.Length * 0.99)], sorted[^1], sorted.Length, perWatcher);
    }

    private static long Rss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    /// <summary>Established TCP connections whose local port is <paramref name="port"/> (from /proc/net/tcp).</summary>
    private static int Established(int port)
    {
        var hex = port.ToString("X4", CultureInfo.InvariantCulture);
        return File.ReadLines("/proc/net/tcp").Skip(1).Count(line =>
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return parts.Length > 3 && parts[1].EndsWith(":" + hex, StringComparison.Ordinal) && parts[3] == "01";
        });
    }
}
