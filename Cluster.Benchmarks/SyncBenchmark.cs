using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Cluster.Testing.Agent;

namespace Cluster.Benchmarks;

/// <summary>
/// Catalog sync from one client agent: three servers and one client as processes on loopback.
/// (1) N services registered through the client's HTTP API by 16 callers, timed until a server
/// lists all of them; (2) the client restarted with N services in a config file, timed from its
/// launch until a server lists them all again (after its anti-entropy full sync).
/// </summary>
internal static class SyncBenchmark
{
    private const int Callers = 16;

    public static async Task RunAsync(int services)
    {
        Console.WriteLine($"catalog sync: {services} services on one client agent, 3 servers (fsync on), loopback");
        await using var cluster = await AgentCluster.StartAsync(3);
        var dir = Path.Combine(Path.GetTempPath(), $"cluster-sync-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var config = Path.Combine(dir, "services.json");
        await File.WriteAllTextAsync(config, "{}");
        var client = await cluster.StartClientAsync("bench-client", $"-config-file={config}");
        var server = cluster.Servers[0];
        await AgentWaits.UntilAsync(server.Http, "/v1/catalog/nodes?stale", json => json.EnumerateArray().Any(n => n.GetProperty("Node").GetString() == "bench-client"), TimeSpan.FromSeconds(60));

        // (1) Through the agent's HTTP API.
        var clock = Stopwatch.StartNew();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < services)
            {
                using var body = new StringContent($$"""{"Name":"svc{{i}}","ID":"svc{{i}}","Port":{{10000 + i}}}""", Encoding.UTF8);
                using var response = await client.Http.PutAsync("/v1/agent/service/register", body);
                response.EnsureSuccessStatusCode();
            }
        }));
        var registered = clock.Elapsed;
        await AgentWaits.UntilAsync(server.Http, "/v1/catalog/node-services/bench-client?stale", json => json.GetProperty("Services").GetArrayLength() >= services, TimeSpan.FromMinutes(5));
        var visible = clock.Elapsed;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  HTTP API, {Callers} callers: all {services} registered in {registered.TotalSeconds:F2} s ({services / registered.TotalSeconds:F0}/s); all visible on a server after {visible.TotalSeconds:F2} s"));

        // (2) From a config file at start: the same services again after a restart.
        var definitions = Enumerable.Range(0, services).Select(i => new Dictionary<string, object> { ["name"] = $"cfg{i}", ["id"] = $"cfg{i}", ["port"] = 20000 + i }).ToList();
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new Dictionary<string, object> { ["services"] = definitions }));
        await client.KillAsync();
        clock.Restart();
        await client.RestartAsync();
        var launched = clock.Elapsed;
        await AgentWaits.UntilAsync(server.Http, "/v1/catalog/node-services/bench-client?stale", json => json.GetProperty("Services").EnumerateArray().Count(s => s.GetProperty("ID").GetString()!.StartsWith("cfg", StringComparison.Ordinal)) >= services, TimeSpan.FromMinutes(5));
        var synced = clock.Elapsed;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  config file at restart: agent up after {launched.TotalSeconds:F2} s; all {services} visible on a server after {synced.TotalSeconds:F2} s"));
        Directory.Delete(dir, recursive: true);
    }
}
