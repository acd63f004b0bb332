using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Cluster.Testing.Agent;

namespace Cluster.Tests.Server;

/// <summary>Three `cluster agent -server` processes on loopback: formation through gossip, and no acknowledged write lost to SIGKILL.</summary>
[Trait("Category", "Integration")]
public sealed class ClusterDurabilityTests
{
    [Fact]
    public async Task Three_servers_bootstrap_through_gossip_and_every_server_sees_the_same_cluster()
    {
        await using var cluster = await AgentCluster.StartAsync(3);
        var leader = await cluster.LeaderAsync(TimeSpan.FromSeconds(30));
        foreach (var server in cluster.Servers)
        {
            using var members = JsonDocument.Parse(await server.Http.GetStringAsync("/v1/agent/members"));
            Assert.Equal(3, members.RootElement.EnumerateArray().Count(m => m.GetProperty("Status").GetInt32() == 1 && m.GetProperty("Tags").GetProperty("role").GetString() == "consul"));

            using var config = JsonDocument.Parse(await server.Http.GetStringAsync("/v1/operator/raft/configuration"));
            var servers = config.RootElement.GetProperty("Servers").EnumerateArray().ToList();
            Assert.Equal(3, servers.Count(s => s.GetProperty("Voter").GetBoolean()));
            Assert.Equal(leader.Name, Assert.Single(servers, s => s.GetProperty("Leader").GetBoolean()).GetProperty("Node").GetString());
        }

        // A write through a follower is forwarded to the leader and readable everywhere.
        var follower = cluster.Servers.First(s => s != leader);
        using (var put = await follower.Http.PutAsync("/v1/kv/formed", new StringContent("yes")))
        {
            Assert.Equal("true", await put.Content.ReadAsStringAsync());
        }

        foreach (var server in cluster.Servers)
        {
            Assert.Equal("yes", await server.Http.GetStringAsync("/v1/kv/formed?raw&consistent"));
        }
    }

    [Fact]
    public async Task No_acknowledged_write_is_lost_when_servers_are_killed_and_restarted_under_load()
    {
        await using var cluster = await AgentCluster.StartAsync(3);
        var acknowledged = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var progress = new Progress();
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(() => WriteAsync(cluster, w, acknowledged, progress, stop.Token))).ToList();

        async Task AcknowledgedGrowsBy(int count)
        {
            var target = acknowledged.Count + count;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            while (acknowledged.Count < target)
            {
                if (DateTime.UtcNow > deadline)
                {
                    Assert.Fail($"writes stalled at {acknowledged.Count} (wanted {target}):\n{string.Join("\n", cluster.Servers.Select(s => $"--- {s.Name} ---\n{s.Output}"))}");
                }

                if (writers.FirstOrDefault(w => w.IsFaulted) is { } failed)
                {
                    Assert.Fail($"a writer failed: {failed.Exception}");
                }

                await progress.NextAsync(deadline - DateTime.UtcNow); // woken by each acknowledgement
            }
        }

        await AcknowledgedGrowsBy(50);
        var leader = await cluster.LeaderAsync(TimeSpan.FromSeconds(30));
        await leader.KillAsync();
        await AcknowledgedGrowsBy(50); // writes resume on a new leader; clients that retried succeeded
        await leader.RestartAsync();
        var follower = (await cluster.LeaderAsync(TimeSpan.FromSeconds(30))) is var current ? cluster.Servers.First(s => s != current) : null!;
        await follower.KillAsync();
        await AcknowledgedGrowsBy(50);
        await follower.RestartAsync();
        await AcknowledgedGrowsBy(20);

        // Every server at once: what was acknowledged must survive on disk.
        foreach (var server in cluster.Servers)
        {
            await server.KillAsync();
        }

        await Task.WhenAll(cluster.Servers.Select(s => s.RestartAsync()));
        await AcknowledgedGrowsBy(20);
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        await cluster.LeaderAsync(TimeSpan.FromSeconds(30));
        foreach (var server in cluster.Servers)
        {
            using var response = await server.Http.GetAsync("/v1/kv/w?recurse&consistent");
            response.EnsureSuccessStatusCode();
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var stored = json.RootElement.EnumerateArray().ToDictionary(
                e => e.GetProperty("Key").GetString()!,
                e => System.Text.Encoding.UTF8.GetString(e.GetProperty("Value").GetBytesFromBase64()),
                StringComparer.Ordinal);
            var lost = acknowledged.Where(a => !stored.TryGetValue(a.Key, out var v) || v != a.Value).Select(a => a.Key).ToList();
            Assert.True(lost.Count == 0, $"{server.Name} lost {lost.Count} of {acknowledged.Count} acknowledged writes, e.g. {string.Join(", ", lost.Take(5))}");
        }
    }

    /// <summary>One client: writes w{writer}/{n} through a random running server, retrying a key until it is acknowledged (PUT is idempotent).</summary>
    private static async Task WriteAsync(AgentCluster cluster, int writer, ConcurrentDictionary<string, string> acknowledged, Progress progress, CancellationToken stop)
    {
        var random = new Random(writer);
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var key = $"w/{writer}/{n:D6}";
            var value = $"{writer}:{n}";
            for (var attempt = 0; !stop.IsCancellationRequested; attempt++)
            {
                var running = cluster.Running.ToList();
                if (running.Count == 0)
                {
                    try
                    {
                        await Task.WhenAny(cluster.Servers.Select(s => s.Launched)).WaitAsync(stop);
                    }
                    catch (OperationCanceledException)
                    {
                    }

                    continue;
                }

                var server = running[random.Next(running.Count)];
                try
                {
                    using var put = await server.Http.PutAsync($"/v1/kv/{key}", new StringContent(value), CancellationToken.None);
                    if (put.StatusCode == HttpStatusCode.OK && await put.Content.ReadAsStringAsync(CancellationToken.None) == "true")
                    {
                        acknowledged[key] = value;
                        progress.Pulse();
                        break;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException)
                {
                    // killed or restarting server: try another
                }

                // A refused write means the cluster is electing or a server is down: retry once
                // another writer gets through or a server comes back (bounded, as a client's backoff).
                await progress.NextAsync(TimeSpan.FromMilliseconds(Math.Min(50 * (attempt + 1), 500)));
            }
        }

    }

    /// <summary>A pulse each writer sends on an acknowledgement; waiters wake on the next one (or their bound).</summary>
    private sealed class Progress
    {
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Pulse() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

        public async Task NextAsync(TimeSpan atMost)
        {
            if (atMost <= TimeSpan.Zero)
            {
                return;
            }

            try
            {
                await Volatile.Read(ref _next).Task.WaitAsync(atMost);
            }
            catch (TimeoutException)
            {
            }
        }
    }
}
