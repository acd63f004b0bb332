using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Cluster.Benchmarks;

/// <summary>Three etcd members (Debian's etcd-server 3.4) on loopback with default timeouts and fsync on.</summary>
internal sealed class EtcdCluster : IAsyncDisposable
{
    private readonly List<Process> _members = [];

    public int LeaderClientPort { get; private set; }

    public static async Task<EtcdCluster> StartAsync(string root)
    {
        var cluster = new EtcdCluster();
        var clientPorts = Enumerable.Range(0, 3).Select(_ => FreePort()).ToArray();
        var peerPorts = Enumerable.Range(0, 3).Select(_ => FreePort()).ToArray();
        var initial = string.Join(',', Enumerable.Range(0, 3).Select(i => string.Create(CultureInfo.InvariantCulture, $"e{i}=http://127.0.0.1:{peerPorts[i]}")));
        for (var i = 0; i < 3; i++)
        {
            var start = new ProcessStartInfo("etcd",
            [
                "--name", $"e{i}", "--data-dir", Path.Combine(root, $"e{i}"),
                "--listen-client-urls", $"http://127.0.0.1:{clientPorts[i]}", "--advertise-client-urls", $"http://127.0.0.1:{clientPorts[i]}",
                "--listen-peer-urls", $"http://127.0.0.1:{peerPorts[i]}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPorts[i]}",
                "--initial-cluster", initial, "--initial-cluster-state", "new", "--initial-cluster-token", "bench", "--log-level", "error",
            ])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            var process = Process.Start(start) ?? throw new InvalidOperationException("etcd did not start");
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            cluster._members.Add(process);
        }

        // The leader, from etcdctl's endpoint status (bounded wait for the election).
        var endpoints = string.Join(',', clientPorts.Select(p => $"http://127.0.0.1:{p}"));
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var status = Run("etcdctl", ["--endpoints", endpoints, "endpoint", "status", "-w", "json"]);
            if (status is not null)
            {
                using var json = JsonDocument.Parse(status);
                foreach (var endpoint in json.RootElement.EnumerateArray())
                {
                    var header = endpoint.GetProperty("Status").GetProperty("header");
                    if (header.GetProperty("member_id").GetUInt64() == endpoint.GetProperty("Status").GetProperty("leader").GetUInt64())
                    {
                        cluster.LeaderClientPort = new Uri(endpoint.GetProperty("Endpoint").GetString()!).Port;
                        return cluster;
                    }
                }
            }

            await Task.Delay(200);
        }

        await cluster.DisposeAsync();
        throw new TimeoutException("etcd elected no leader");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var member in _members)
        {
            if (!member.HasExited)
            {
                member.Kill(entireProcessTree: true);
                await member.WaitForExitAsync();
            }

            member.Dispose();
        }
    }

    private static string? Run(string fileName, string[] args)
    {
        var start = new ProcessStartInfo(fileName, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["ETCDCTL_API"] = "3";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
