using System.Text.Json;
using Cluster.Testing.Agent;

namespace Cluster.Testing.Jepsen;

/// <summary>
/// `cluster agent -server` processes, each in a host of a <see cref="NetworkLab"/> with Consul's
/// default ports on its own address, bootstrapped by -bootstrap-expect through LAN gossip. The
/// nemesis kills, restarts, pauses and resumes them; a server's state is tracked here so faults
/// never overlap on one server.
/// </summary>
public sealed class JepsenCluster : IAsyncDisposable
{
    private readonly string _root;
    private readonly HttpClient _control = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly int[] _state; // 0 running, 1 killed, 2 paused (Interlocked)

    private JepsenCluster(NetworkLab lab, string root, IReadOnlyList<AgentProcess> servers)
    {
        Lab = lab;
        _root = root;
        Servers = servers;
        _state = new int[servers.Count];
    }

    public NetworkLab Lab { get; }

    public IReadOnlyList<AgentProcess> Servers { get; }

    public static async Task<JepsenCluster> StartAsync(int count, string root, int seed)
    {
        var lab = await NetworkLab.CreateAsync(count, seed);
        var servers = new List<AgentProcess>();
        try
        {
            var starts = Enumerable.Range(0, count).Select(i =>
            {
                var dir = Path.Combine(root, $"s{i + 1}");
                Directory.CreateDirectory(dir);
                string[] flags =
                [
                    "-server", $"-bootstrap-expect={count}", $"-node=s{i + 1}", $"-bind={lab.Address(i)}", $"-client={lab.Address(i)}",
                    $"-data-dir={dir}", $"-retry-join={lab.Address(0)}:8301", "-retry-interval=1s", "-log-level=warn",
                ];
                return AgentProcess.StartAsync($"s{i + 1}", flags, lab.Launcher(i));
            }).ToList();
            foreach (var start in starts)
            {
                try
                {
                    servers.Add(await start);
                }
                catch (InvalidOperationException)
                {
                    // reported below, after the others have started (and so can be stopped)
                }
            }

            if (servers.Count < count)
            {
                throw new InvalidOperationException($"only {servers.Count} of {count} servers started");
            }

            var cluster = new JepsenCluster(lab, root, servers);
            await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(60));
            return cluster;
        }
        catch
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }

            await lab.DisposeAsync();
            throw;
        }
    }

    public bool IsRunning(int server) => Volatile.Read(ref _state[server]) == 0;

    /// <summary>Takes a running server for a fault: false if it is already down or paused.</summary>
    public bool TryFault(int server, bool pause) => Interlocked.CompareExchange(ref _state[server], pause ? 2 : 1, 0) == 0;

    public async Task KillAsync(int server) => await Servers[server].KillAsync();

    public async Task RestartAsync(int server)
    {
        await Servers[server].RestartAsync();
        Volatile.Write(ref _state[server], 0);
    }

    public void Pause(int server) => Signals.Send(Servers[server].Pid, Signals.Stop);

    public void Resume(int server)
    {
        Signals.Send(Servers[server].Pid, Signals.Continue);
        Volatile.Write(ref _state[server], 0);
    }

    /// <summary>The server the cluster names as leader (asked of running servers), or null when none answers.</summary>
    public async Task<int?> LeaderAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < Servers.Count; i++)
        {
            if (!IsRunning(i))
            {
                continue;
            }

            try
            {
                var leader = JsonSerializer.Deserialize<string>(await _control.GetStringAsync(new Uri(Servers[i].HttpAddress, "/v1/status/leader"), cancellationToken));
                var host = leader?.Split(':')[0];
                for (var j = 0; j < Servers.Count; j++)
                {
                    if (Lab.Address(j) == host)
                    {
                        return j;
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
            {
                // that server is restarting or slow: ask another
            }
        }

        return null;
    }

    /// <summary>Waits (bounded) until a server confirms a leader with a quorum round (<c>?consistent</c>).</summary>
    public async Task WaitForLeaderAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        while (true)
        {
            foreach (var server in Servers)
            {
                try
                {
                    using var response = await http.GetAsync(new Uri(server.HttpAddress, "/v1/kv/jepsen-ready?consistent"), deadline.Token);
                    if (response.StatusCode is System.Net.HttpStatusCode.OK or System.Net.HttpStatusCode.NotFound)
                    {
                        return;
                    }
                }
                catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !deadline.IsCancellationRequested))
                {
                }
            }

            // Every server answered "no leader" (after waiting up to 5 s for one) or refused: ask again.
            deadline.Token.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Everything each server printed, for a failure report.</summary>
    public string Output => string.Join("\n", Servers.Select(s => $"--- {s.Name} ---\n{s.Output}"));

    public async ValueTask DisposeAsync()
    {
        for (var i = 0; i < Servers.Count; i++)
        {
            Signals.Send(Servers[i].Pid, Signals.Continue); // a stopped process cannot die until it runs
            await Servers[i].DisposeAsync();
        }

        await Lab.DisposeAsync();
        _control.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
