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
    private TaskCompletionSource _printed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Process _process = null!;
    private bool _restarting;
    private TaskCompletionSource _launched = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private AgentProcess(string name, IReadOnlyList<string> args, IReadOnlyList<string> launcher)
    {
        Name = name;
        Args = args;
        Launcher = launcher;
    }

    public string Name { get; }

    public IReadOnlyList<string> Args { get; }

    /// <summary>A command the agent runs under (e.g. <c>ip netns exec NAME</c>); empty to run it directly.</summary>
    public IReadOnlyList<string> Launcher { get; }

    /// <summary>The address its HTTP API listens on (the first client address; loopback when it listens on all).</summary>
    public string HttpHost { get; private set; } = "127.0.0.1";

    public int HttpPort { get; private set; }

    /// <summary>The DNS port (UDP and TCP) from the start lines; -1 when DNS is off.</summary>
    public int DnsPort { get; private set; }

    public string LanAddress { get; private set; } = "";

    public Uri HttpAddress => new($"http://{HttpHost}:{HttpPort}");

    public HttpClient Http { get; private set; } = null!;

    /// <summary>True while killed or between a kill and the restarted process's start.</summary>
    public int Pid => _process.Id;

    /// <summary>Completes once the process (first or restarted) has printed its start lines.</summary>
    public Task Launched => Volatile.Read(ref _launched).Task;

    public bool HasExited
    {
        get
        {
            try
            {
                return Volatile.Read(ref _restarting) || _process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return true; // disposed by a restart in progress
            }
        }
    }

    /// <summary>Waits (bounded) until the agent has printed a line containing <paramref name="text"/>, woken by each line it prints.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            Task printed;
            lock (_output)
            {
                if (_output.ToString().Contains(text, StringComparison.Ordinal))
                {
                    return;
                }

                printed = _printed.Task;
            }

            try
            {
                await printed.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"the agent did not print \"{text}\" within {timeout}:\n{Output}");
            }
        }
    }

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

    public static Task<AgentProcess> StartAsync(string name, params string[] args) => StartAsync(name, args, []);

    /// <summary>Starts the agent under <paramref name="launcher"/> (a command prefix such as <c>ip netns exec NAME</c>).</summary>
    public static async Task<AgentProcess> StartAsync(string name, IReadOnlyList<string> args, IReadOnlyList<string> launcher)
    {
        var agent = new AgentProcess(name, args, launcher);
        await agent.LaunchAsync();
        agent._launched.TrySetResult();
        return agent;
    }

    /// <summary>Free ports (TCP and UDP) for agents that must keep their ports across restarts.</summary>
    public static int[] FreePorts(int count)
    {
        var sockets = new List<(Socket Tcp, Socket Udp)>();
        try
        {
            for (var tries = 0; sockets.Count < count; tries++)
            {
                if (tries > 10_000)
                {
                    throw new InvalidOperationException("no free ports below the ephemeral range");
                }

                var port = NextCandidatePort();
                var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                try
                {
                    tcp.Bind(new IPEndPoint(IPAddress.Loopback, port));
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

    // Fixed ports are taken below the kernel's ephemeral range: a port the OS hands out for
    // "port 0" (an agent's actor or DNS listener, an outgoing connection) can then never be one a
    // test reserved for an agent it restarts later. A counter, offset by the process id, walks the range.
    private static readonly (int Low, int High) FixedRange = ReadFixedRange();
    private static int _nextPort = FixedRange.Low + (Environment.ProcessId * 37 % (FixedRange.High - FixedRange.Low));

    private static int NextCandidatePort()
    {
        var span = FixedRange.High - FixedRange.Low;
        var n = Interlocked.Increment(ref _nextPort);
        return FixedRange.Low + ((n - FixedRange.Low) % span + span) % span;
    }

    private static (int Low, int High) ReadFixedRange()
    {
        var ephemeralLow = 32768;
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            ephemeralLow = int.Parse(range[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
        }

        return (Math.Min(10_000, ephemeralLow / 2), ephemeralLow);
    }

    /// <summary>SIGKILL: no goodbye, no flush beyond what was fsynced.</summary>
    public async Task KillAsync()
    {
        if (Launched.IsCompleted)
        {
            Volatile.Write(ref _launched, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        }

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
        Volatile.Write(ref _restarting, true);
        await KillAsync();
        _process.Dispose();
        Append("---- restarted ----");
        await LaunchAsync();
        Volatile.Write(ref _restarting, false);
        Volatile.Read(ref _launched).TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
        Http.Dispose();
    }

    /// <summary>Starts the process and waits (bounded) for its start lines; then follows its output.</summary>
    private async Task LaunchAsync()
    {
        var info = new ProcessStartInfo(Launcher.Count > 0 ? Launcher[0] : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = PeerProcess.RepoRoot,
        };
        if (Launcher.Count > 0)
        {
            foreach (var part in Launcher.Skip(1).Append("dotnet"))
            {
                info.ArgumentList.Add(part);
            }
        }

        info.ArgumentList.Add(PeerProcess.BuiltDll("Cluster.Cli", "cluster"));
        info.ArgumentList.Add("agent");
        foreach (var arg in Args)
        {
            info.ArgumentList.Add(arg);
        }

        // Agents run side by side in tests: a free DNS port unless the test names one.
        if (!Args.Any(a => a.StartsWith("-dns-port", StringComparison.Ordinal)))
        {
            info.ArgumentList.Add("-dns-port=0");
        }

        if (!Args.Any(a => a.StartsWith("-actors-port", StringComparison.Ordinal)))
        {
            info.ArgumentList.Add("-actors-port=0");
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the agent");
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(StartTimeout);
        int? http = null;
        var dns = -1;
        var host = "127.0.0.1";
        string? lan = null;
        try
        {
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                Append(line);
                if (HttpLine().Match(line) is { Success: true } h)
                {
                    host = h.Groups[1].Value is "0.0.0.0" or "" ? "127.0.0.1" : h.Groups[1].Value;
                    http = int.Parse(h.Groups[2].Value, CultureInfo.InvariantCulture);
                    dns = h.Groups[3].Success ? int.Parse(h.Groups[3].Value, CultureInfo.InvariantCulture) : -1;
                }

                if (LanLine().Match(line) is { Success: true } l)
                {
                    lan = l.Groups[1].Value;
                }

                if (line.StartsWith("==> Log data will now stream", StringComparison.Ordinal) && http is { } port && lan is not null)
                {
                    _process = process;
                    LanAddress = lan;
                    DnsPort = dns;
                    if (port != HttpPort || host != HttpHost || Http is null)
                    {
                        Http?.Dispose();
                        HttpPort = port;
                        HttpHost = host;
                        Http = new HttpClient { BaseAddress = HttpAddress, Timeout = TimeSpan.FromSeconds(30) };
                    }

                    _ = FollowAsync(process.StandardOutput);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync();
        process.Dispose();
        throw new InvalidOperationException($"the agent did not start:\n{Output}");
    }

    private async Task FollowAsync(StreamReader stdout)
    {
        try
        {
            while (await stdout.ReadLineAsync() is { } line)
            {
                Append(line);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
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

            _printed.TrySetResult();
            _printed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    [GeneratedRegex(@"Client Addr: \[([^\] ]*)[^\]]*\] \(HTTP: (\d+)(?:, DNS: (-?\d+))?\)")]
    private static partial Regex HttpLine();

    [GeneratedRegex(@"Cluster Addr: .*\(LAN: ([^,]+),")]
    private static partial Regex LanLine();
}
