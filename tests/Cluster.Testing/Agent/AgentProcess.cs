using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Cluster.Testing.Agent;

/// <summary>
/// `cluster agent` in a process of its own, as a user runs it: started with flags, ready once it
/// prints its addresses, stopped with SIGTERM (graceful) or SIGKILL (a crash), and restartable
/// with the same flags (and so the same ports and data directory).
/// </summary>
public sealed partial class AgentProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly StringBuilder _output = new();
    private Process _process;

    private AgentProcess(string name, IReadOnlyList<string> args, Process process, int httpPort, string lanAddress)
    {
        Name = name;
        Args = args;
        _process = process;
        HttpPort = httpPort;
        LanAddress = lanAddress;
        Http = new HttpClient { BaseAddress = HttpAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Name { get; }

    public IReadOnlyList<string> Args { get; }

    public int HttpPort { get; private set; }

    public string LanAddress { get; private set; }

    public Uri HttpAddress => new($"http://127.0.0.1:{HttpPort}");

    public HttpClient Http { get; private set; }

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the agent printed (stdout and stderr), for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<AgentProcess> StartAsync(string name, params string[] args)
    {
        var output = new StringBuilder();
        var (process, http, lan) = await LaunchAsync(args, output);
        var agent = new AgentProcess(name, args, process, http, lan);
        lock (agent._output)
        {
            agent._output.Append(output);
        }

        agent.Follow(process);
        return agent;
    }

    /// <summary>Free ports (TCP and UDP) for agents that must keep their ports across restarts.</summary>
    public static int[] FreePorts(int count)
    {
        var sockets = new List<(Socket Tcp, Socket Udp)>();
        try
        {
            while (sockets.Count < count)
            {
                var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                tcp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                var port = ((IPEndPoint)tcp.LocalEndPoint!).Port;
                var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                try
                {
                    udp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                }
                catch (SocketException)
                {
                    tcp.Dispose();
                    udp.Dispose();
                    continue;
                }

                sockets.Add((tcp, udp));
            }

            return [.. sockets.Select(s => ((IPEndPoint)s.Tcp.LocalEndPoint!).Port)];
        }
        finally
        {
            foreach (var (tcp, udp) in sockets)
            {
                tcp.Dispose();
                udp.Dispose();
            }
        }
    }

    /// <summary>SIGKILL: no goodbye, no flush beyond what was fsynced.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM and wait (bounded) for a graceful exit; returns the exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        if (!_process.HasExited)
        {
            _ = Signals.Send(_process.Id, Signals.Term);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>Starts the agent again with the same flags (same ports and data directory).</summary>
    public async Task RestartAsync()
    {
        await KillAsync();
        _process.Dispose();
        var output = new StringBuilder();
        var (process, http, lan) = await LaunchAsync(Args, output);
        lock (_output)
        {
            _output.Append("---- restarted ----\n").Append(output);
        }

        _process = process;
        Follow(process);
        if (http != HttpPort)
        {
            Http.Dispose();
            HttpPort = http;
            Http = new HttpClient { BaseAddress = HttpAddress, Timeout = TimeSpan.FromSeconds(30) };
        }

        LanAddress = lan;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
        Http.Dispose();
    }

    private static async Task<(Process Process, int HttpPort, string Lan)> LaunchAsync(IReadOnlyList<string> args, StringBuilder output)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = PeerProcess.RepoRoot,
        };
        info.ArgumentList.Add(PeerProcess.BuiltDll("src/Cluster.Cli", "cluster"));
        info.ArgumentList.Add("agent");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the agent");
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(StartTimeout);
        int? http = null;
        string? lan = null;
        try
        {
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                output.AppendLine(line);
                if (HttpLine().Match(line) is { Success: true } h)
                {
                    http = int.Parse(h.Groups[1].Value, CultureInfo.InvariantCulture);
                }

                if (LanLine().Match(line) is { Success: true } l)
                {
                    lan = l.Groups[1].Value;
                }

                if (line.StartsWith("==> Log data will now stream", StringComparison.Ordinal) && http is { } port && lan is not null)
                {
                    return (process, port, lan);
                }
            }
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync();
        string errors;
        lock (stderr)
        {
            errors = stderr.ToString();
        }

        process.Dispose();
        throw new InvalidOperationException($"the agent did not start: {output}{errors}");
    }

    private void Follow(Process process)
    {
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length < 1 << 20)
            {
                _output.AppendLine(line);
            }
        }
    }

    [GeneratedRegex(@"Client Addr: .*\(HTTP: (\d+)\)")]
    private static partial Regex HttpLine();

    [GeneratedRegex(@"Cluster Addr: .*\(LAN: ([^,]+),")]
    private static partial Regex LanLine();
}
