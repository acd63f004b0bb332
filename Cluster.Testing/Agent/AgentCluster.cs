using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Cluster.Testing.Agent;

/// <summary>
/// Servers as separate `cluster agent -server` processes on loopback: fixed ports per server
/// (so a restarted server keeps its Raft address), each retry-joining all servers, bootstrap by
/// -bootstrap-expect through LAN gossip, data directories under one temporary root. Waits use
/// the HTTP API's own blocking queries, so nothing polls on a timer.
/// </summary>
public sealed class AgentCluster : IAsyncDisposable
{
    private const string ServersField = "Servers"; // Consul's JSON name

    private readonly string _root;
    private readonly List<AgentProcess> _clients = [];

    private AgentCluster(string root, IReadOnlyList<AgentProcess> servers)
    {
        _root = root;
        Servers = servers;
    }

    public IReadOnlyList<AgentProcess> Servers { get; }

    /// <summary>Client agents started with <see cref="StartClientAsync"/>.</summary>
    public IReadOnlyList<AgentProcess> Clients => _clients;

    /// <summary>
    /// A client agent (no -server) that joins through every server's LAN address, with fixed
    /// ports and its own data directory, so a restart keeps its identity. Every server, not the
    /// first alone: a server just restarted knows only itself until someone exchanges state with
    /// it, and a client that joined through it alone would share that view.
    /// </summary>
    public async Task<AgentProcess> StartClientAsync(string name, params string[] extraFlags)
    {
        var dir = Path.Combine(_root, name);
        Directory.CreateDirectory(dir);
        var ports = AgentProcess.FreePorts(2);
        string[] flags =
        [
            $"-node={name}", "-bind=127.0.0.1", $"-data-dir={dir}",
            $"-http-port={ports[0]}", $"-serf-lan-port={ports[1]}",
            .. Servers.Select(s => $"-retry-join={s.LanAddress}"), "-retry-interval=1s", "-log-level=warn", .. extraFlags,
        ];
        var client = await AgentProcess.StartAsync(name, flags);
        _clients.Add(client);
        return client;
    }

    /// <summary>The directory a client's files (data, config) live in.</summary>
    public string DirectoryOf(string name) => Path.Combine(_root, name);

    public static async Task<AgentCluster> StartAsync(int count, params string[] extraFlags)
    {
        var root = Path.Combine(Path.GetTempPath(), $"cluster-test-{Guid.NewGuid():N}");
        var ports = AgentProcess.FreePorts(count * 3);

        // Each server retry-joins all of them (its own address is skipped), as deployments list
        // every server: one restarted (same ports) rejoins the others at once. With the first
        // server's address alone, that server, restarted, would have no one to join and would
        // relearn the pool only when others' periodic push-pull (about every 30 s, to a random
        // member) happened to pick it.
        var join = Enumerable.Range(0, count).Select(i => $"-retry-join=127.0.0.1:{ports[(i * 3) + 1]}").ToArray();
        var starts = new List<Task<AgentProcess>>();
        for (var i = 0; i < count; i++)
        {
            var dir = Path.Combine(root, $"s{i + 1}");
            Directory.CreateDirectory(dir);
            string[] flags =
            [
                "-server", $"-bootstrap-expect={count}", $"-node=s{i + 1}", "-bind=127.0.0.1", $"-data-dir={dir}",
                $"-http-port={ports[(i * 3) + 0]}", $"-serf-lan-port={ports[(i * 3) + 1]}", $"-server-port={ports[(i * 3) + 2]}",
                .. join, "-retry-interval=1s", "-log-level=warn", .. extraFlags,
            ];
            starts.Add(AgentProcess.StartAsync($"s{i + 1}", flags));
        }

        var servers = await Task.WhenAll(starts);
        var cluster = new AgentCluster(root, servers);
        try
        {
            await cluster.WaitForServersAsync(count, TimeSpan.FromSeconds(60));
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    public IEnumerable<AgentProcess> Running => Servers.Where(s => !s.HasExited);

    /// <summary>
    /// Waits until every running server's own store (?stale) lists <paramref name="count"/>
    /// passing "consul" instances: the leader registers a server once gossip sees it alive, so
    /// this means a leader exists and every server has applied its writes.
    /// </summary>
    public async Task WaitForServersAsync(int count, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        foreach (var server in Running)
        {
            ulong index = 0;
            while (true)
            {
                cts.Token.ThrowIfCancellationRequested();
                using var response = await server.Http.GetAsync($"/v1/health/service/consul?passing&stale&index={index}&wait=5s", cts.Token);
                response.EnsureSuccessStatusCode();
                index = ulong.Parse(response.Headers.GetValues("X-Consul-Index").First(), CultureInfo.InvariantCulture);
                using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cts.Token));
                if (json.RootElement.GetArrayLength() >= count)
                {
                    break;
                }
            }
        }
    }

    /// <summary>The address of the leader as the first running server that knows one says (a bounded long-poll-free retry on its Raft status).</summary>
    public async Task<AgentProcess> LeaderAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            foreach (var server in Running)
            {
                try
                {
                    // ?consistent makes the server confirm its leader with a quorum round before it answers.
                    using var response = await server.Http.GetAsync("/v1/kv/?keys&consistent", cts.Token);
                    if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound)
                    {
                        var leader = JsonSerializer.Deserialize<string>(await server.Http.GetStringAsync("/v1/status/leader", cts.Token));
                        var config = JsonDocument.Parse(await server.Http.GetStringAsync("/v1/operator/raft/configuration?stale", cts.Token));
                        foreach (var entry in config.RootElement.GetProperty(ServersField).EnumerateArray())
                        {
                            if (entry.GetProperty("Address").GetString() == leader)
                            {
                                // A server that has just restarted may not be named in gossip yet ("(unknown)"): ask again.
                                var name = entry.GetProperty("Node").GetString();
                                if (Servers.FirstOrDefault(s => s.Name == name) is { } found)
                                {
                                    return found;
                                }
                            }
                        }
                    }
                }
                catch (HttpRequestException)
                {
                }
            }

            cts.Token.ThrowIfCancellationRequested();
            // Nobody confirmed a leader. A reachable server already waited (up to 5 s) for Raft
            // to elect one before answering; if none was reachable, wait for one to come back.
            if (!Running.Any())
            {
                await Task.WhenAny(Servers.Select(s => s.Launched)).WaitAsync(cts.Token);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        foreach (var server in Servers)
        {
            await server.DisposeAsync();
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
