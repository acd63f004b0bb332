using System.Globalization;
using Cluster.Grpc;
using Cluster.Grpc.Client;
using Cluster.Testing.Raft.Wire;
using Google.Protobuf;

namespace Cluster.Testing.Raft;

/// <summary>
/// Raft servers as real processes on loopback (tests/Cluster.RaftNode), each with its own data
/// directory and port, kept across SIGKILL and restart; plus a client that finds the leader.
/// </summary>
public sealed class RaftProcessCluster : IAsyncDisposable
{
    private readonly string _root;
    private readonly string[] _extraArgs;
    private readonly Dictionary<ulong, PeerProcess> _processes = [];
    private readonly Dictionary<ulong, int> _ports = [];
    private readonly Dictionary<int, GrpcChannel> _channels = [];
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

    public static string NodeDll()
    {
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        return Path.Combine(PeerProcess.RepoRoot, "tests", "Cluster.RaftNode", "bin", configuration, "net10.0", "Cluster.RaftNode.dll");
    }

    /// <summary>SIGKILL: no shutdown, whatever was not fsynced is gone.</summary>
    public async Task KillAsync(ulong id)
    {
        await _processes[id].KillAsync();
        await _processes[id].DisposeAsync();
        _processes.Remove(id);
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
            return await Channel(_ports[id]).UnaryAsync(RaftKv.Status, new StatusRequest(), CallOptions.WithTimeout(timeout));
        }
        catch (RpcException)
        {
            return null;
        }
    }

    /// <summary>The server every running server agrees leads, polled until <paramref name="timeout"/>.</summary>
    public async Task<ulong> WaitForLeaderAsync(TimeSpan timeout, ulong notThis = 0)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            var statuses = new List<StatusReply>();
            foreach (var id in _processes.Keys.Where(IsRunning).ToList())
            {
                if (await StatusAsync(id, TimeSpan.FromSeconds(1)) is { } status)
                {
                    statuses.Add(status);
                }
            }

            var leader = statuses.FirstOrDefault(s => s.Role == "Leader");
            if (leader is not null && leader.Id != notThis && statuses.Count == _processes.Count(p => IsRunning(p.Key)) && statuses.All(s => s.Leader == leader.Id))
            {
                return leader.Id;
            }

            if (deadline.IsCancellationRequested)
            {
                throw new TimeoutException($"no agreed leader within {timeout}: {string.Join("; ", statuses.Select(s => $"{s.Id} {s.Role} t{s.Term} leader {s.Leader}"))}");
            }

            await Task.Delay(50, CancellationToken.None);
        }
    }

    /// <summary>Writes at <paramref name="id"/>; returns the log index, or null if it is not the leader or does not answer in time.</summary>
    public async Task<ulong?> TryPutAsync(ulong id, string key, ByteString value, TimeSpan timeout)
    {
        try
        {
            var reply = await Channel(_ports[id]).UnaryAsync(RaftKv.Put, new PutRequest { Key = key, Value = value }, CallOptions.WithTimeout(timeout));
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
            return await Channel(_ports[id]).UnaryAsync(RaftKv.Get, new GetRequest { Key = key, Mode = mode }, CallOptions.WithTimeout(timeout));
        }
        catch (RpcException)
        {
            return null;
        }
    }

    public GrpcChannel Channel(int port)
    {
        lock (_channels)
        {
            if (!_channels.TryGetValue(port, out var channel))
            {
                channel = GrpcChannel.ForAddress(new Uri($"http://127.0.0.1:{port}"), new GrpcChannelOptions { ConnectTimeout = TimeSpan.FromSeconds(1) });
                _channels[port] = channel;
            }

            return channel;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes.Values)
        {
            await process.DisposeAsync();
        }

        foreach (var channel in _channels.Values)
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
