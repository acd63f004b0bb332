using System.Globalization;
using Cluster.Testing.Raft.Wire;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Cluster.Testing.Raft;

/// <summary>
/// Raft servers as real processes on loopback (Cluster.RaftNode), each with its own data
/// directory and port, kept across SIGKILL and restart; plus a client that finds the leader.
/// </summary>
public sealed class RaftProcessCluster : IAsyncDisposable
{
    private readonly string _root;
    private readonly string[] _extraArgs;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, PeerProcess> _processes = new(); // read by writer tasks while the test kills and restarts
    private readonly Dictionary<ulong, int> _ports = [];
    private readonly Dictionary<int, (GrpcChannel Channel, Kv.KvClient Client)> _channels = [];
    private string _bootstrap = "";

    private RaftProcessCluster(string root, string[] extraArgs)
    {
        _root = root;
        _extraArgs = extraArgs;
    }

    public IReadOnlyCollection<ulong> Ids => _ports.Keys;

    public bool IsRunning(ulong id) => _processes.TryGetValue(id, out var p) && !p.HasExited;

    public int PortOf(ulong id) => _ports[id];

    /// <summary>Starts <paramref name="count"/> founding servers (ids 1..count) and waits for a leader (bounded).</summary>
    public static async Task<RaftProcessCluster> StartAsync(int count, string root, params string[] extraArgs)
    {
        var cluster = new RaftProcessCluster(root, extraArgs);
        for (ulong id = 1; id <= (ulong)count; id++)
        {
            var process = await cluster.LaunchAsync(id, port: 0);
            cluster._processes[id] = process;
            cluster._ports[id] = process.Port;
        }

        cluster._bootstrap = string.Join(',', cluster._ports.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}=127.0.0.1:{p.Value}")));
        foreach (var process in cluster._processes.Values)
        {
            await process.WriteLineAsync("start " + cluster._bootstrap);
        }

        await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        return cluster;
    }

    public static string NodeDll() => PeerProcess.BuiltDll("Cluster.RaftNode", "Cluster.RaftNode");

    /// <summary>SIGKILL: no shutdown, whatever was not fsynced is gone.</summary>
    public async Task KillAsync(ulong id)
    {
        // Out of the table first: writer tasks must never see a disposed process.
        _processes.TryRemove(id, out var process);
        await process!.KillAsync();
        await process.DisposeAsync();
    }

    /// <summary>Starts a killed server again on its port, from its data directory.</summary>
    public async Task RestartAsync(ulong id)
    {
        var process = await LaunchAsync(id, _ports[id]);
        _processes[id] = process;
        await process.WriteLineAsync("start " + _bootstrap);
    }

    public async Task<StatusReply?> StatusAsync(ulong id, TimeSpan timeout)
    {
        try
        {
            return await Client(_ports[id]).StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow + timeout);
        }
        catch (RpcException)
        {
            return null;
        }
    }

    /// <summary>
    /// The server every running server agrees leads (not <paramref name="notThis"/>), waited for
    /// with long polls: each server answers when its view (role, term, leader) changes.
    /// </summary>
    public async Task<ulong> WaitForLeaderAsync(TimeSpan timeout, ulong notThis = 0)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var latest = new Dictionary<ulong, StatusReply>();
        var watching = new Dictionary<ulong, Task<StatusReply?>>();
        while (true)
        {
            var running = _processes.Keys.Where(IsRunning).ToList();
            foreach (var id in running.Where(id => !watching.ContainsKey(id)))
            {
                watching[id] = WatchAsync(id, latest.TryGetValue(id, out var seen) ? seen.View : "", deadline.Token);
            }

            var views = running.Where(latest.ContainsKey).Select(id => latest[id]).ToList();
            var leader = views.FirstOrDefault(s => s.Role == "Leader" && s.Id != notThis);
            if (leader is not null && views.Count == running.Count && views.All(s => s.Leader == leader.Id && s.Term == leader.Term))
            {
                return leader.Id;
            }

            try
            {
                var answered = await Task.WhenAny(watching.Values).WaitAsync(deadline.Token);
                var id = watching.First(w => w.Value == answered).Key;
                watching.Remove(id);
                if (await answered is { } reply)
                {
                    latest[id] = reply;
                }
                else
                {
                    latest.Remove(id);
                    await WhenRunningChangesAsync(id, deadline.Token); // a failed call: retry once the process is back or gone
                }
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no agreed leader within {timeout}: {string.Join("; ", latest.Values.Select(s => $"{s.Id} {s.View}"))}");
            }
        }
    }

    private async Task<StatusReply?> WatchAsync(ulong id, string seen, CancellationToken cancellationToken)
    {
        try
        {
            return await Client(_ports[id]).StatusAsync(new StatusRequest { Wait = true, Seen = seen }, cancellationToken: cancellationToken);
        }
        catch (RpcException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>After a failed status call: wait until that process exits or another server's view arrives (never spin).</summary>
    private Task WhenRunningChangesAsync(ulong id, CancellationToken cancellationToken) =>
        _processes.TryGetValue(id, out var process) ? process.ExitedAsync(TimeSpan.FromSeconds(1), cancellationToken) : Task.CompletedTask;

    /// <summary>Writes at <paramref name="id"/>; returns the log index, or null if it is not the leader or does not answer in time.</summary>
    public async Task<ulong?> TryPutAsync(ulong id, string key, ByteString value, TimeSpan timeout)
    {
        try
        {
            var reply = await Client(_ports[id]).PutAsync(new PutRequest { Key = key, Value = value }, deadline: DateTime.UtcNow + timeout);
            return reply.Index;
        }
        catch (RpcException)
        {
            return null;
        }
    }

    /// <summary>A linearizable read at <paramref name="id"/> (null if it cannot serve it now).</summary>
    public async Task<GetReply?> TryGetAsync(ulong id, string key, TimeSpan timeout, Wire.ReadMode mode = Wire.ReadMode.Quorum)
    {
        try
        {
            return await Client(_ports[id]).GetAsync(new GetRequest { Key = key, Mode = mode }, deadline: DateTime.UtcNow + timeout);
        }
        catch (RpcException)
        {
            return null;
        }
    }

    /// <summary>The client API of the server on <paramref name="port"/> (one channel per port, kept).</summary>
    public Kv.KvClient Client(int port)
    {
        lock (_channels)
        {
            if (!_channels.TryGetValue(port, out var entry))
            {
                var channel = GrpcChannel.ForAddress(new Uri($"http://127.0.0.1:{port}"), new GrpcChannelOptions
                {
                    HttpHandler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(1), EnableMultipleHttp2Connections = true, UseProxy = false },
                });
                entry = (channel, new Kv.KvClient(channel));
                _channels[port] = entry;
            }

            return entry.Client;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes.Values)
        {
            await process.DisposeAsync();
        }

        foreach (var (channel, _) in _channels.Values)
        {
            channel.Dispose();
        }
    }

    private Task<PeerProcess> LaunchAsync(ulong id, int port) =>
        PeerProcess.StartServerAsync(
            "dotnet",
            [NodeDll(), "--id", id.ToString(CultureInfo.InvariantCulture), "--dir", Path.Combine(_root, $"n{id}"), "--port", port.ToString(CultureInfo.InvariantCulture), .. _extraArgs],
            PeerProcess.RepoRoot);
}
