using System.Diagnostics;

namespace Cluster.Testing.Gossip;

/// <summary>
/// A gossip pool member in a process of its own (Cluster.GossipNode) on loopback. Every
/// line it prints is kept with the moment it arrived, so a test waits for lines (never polls)
/// and can tell when each member noticed something.
/// </summary>
public sealed class GossipProcess : IAsyncDisposable
{
    private const int SigKill = 9;
    private const int SigCont = 18;
    private const int SigStop = 19;
    private readonly Process _process;
    private readonly List<(long At, string Line)> _lines = [];
    private readonly Task _reader;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private GossipProcess(string name, Process process)
    {
        Name = name;
        _process = process;
        _reader = Task.Run(ReadAsync);
    }

    public string Name { get; }

    public string Address { get; private set; } = "";

    public static async Task<GossipProcess> StartAsync(string name, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(PeerProcess.BuiltDll("Cluster.GossipNode", "Cluster.GossipNode"));
        info.ArgumentList.Add("--name");
        info.ArgumentList.Add(name);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = new GossipProcess(name, Process.Start(info) ?? throw new InvalidOperationException("could not start the gossip node"));
        var (_, listening) = await process.WaitForLineAsync(l => l.StartsWith("listening ", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        process.Address = $"127.0.0.1:{listening["listening ".Length..]}";
        return process;
    }

    /// <summary>Sends a command and returns the first line after it that starts with <paramref name="answer"/>.</summary>
    public async Task<string> AskAsync(string command, string answer, TimeSpan limit)
    {
        int from;
        lock (_lines)
        {
            from = _lines.Count;
        }

        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
        return (await WaitForLineAsync(l => l.StartsWith(answer, StringComparison.Ordinal), limit, from)).Line;
    }

    /// <summary>The first line (at or after index <paramref name="from"/>) that matches, with the Stopwatch timestamp it arrived at.</summary>
    public async Task<(long At, string Line)> WaitForLineAsync(Func<string, bool> match, TimeSpan limit, int from = 0)
    {
        using var deadline = new CancellationTokenSource(limit);
        while (true)
        {
            Task changed;
            lock (_lines)
            {
                changed = _changed.Task;
                for (var i = from; i < _lines.Count; i++)
                {
                    if (match(_lines[i].Line))
                    {
                        return _lines[i];
                    }
                }
            }

            try
            {
                await changed.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{Name}: no matching line within {limit}; it printed:\n{string.Join('\n', Lines)}\n{await ErrorsAsync()}");
            }
        }
    }

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines.Select(l => l.Line)];
            }
        }
    }

    /// <summary>SIGKILL: no leave message, the others must find out.</summary>
    public async Task KillAsync()
    {
        Signal(SigKill);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGSTOP / SIGCONT: the process is frozen as a CPU-starved or throttled host is.</summary>
    public void Freeze() => Signal(SigStop);

    public void Thaw() => Signal(SigCont);

    /// <summary>
    /// Starves the process: frozen for <paramref name="frozen"/> at the start of every
    /// <paramref name="period"/>, <paramref name="cycles"/> times (the duty cycle of a CPU quota).
    /// The timing is the fault being injected, not a wait for anything.
    /// </summary>
    public async Task StarveAsync(TimeSpan frozen, TimeSpan period, int cycles)
    {
        using var ticks = new PeriodicTimer(period);
        for (var cycle = 0; cycle < cycles; cycle++)
        {
            Freeze();
            using (var thaw = new PeriodicTimer(frozen))
            {
                await thaw.WaitForNextTickAsync();
            }

            Thaw();
            await ticks.WaitForNextTickAsync();
        }
    }

    public int LineCount
    {
        get
        {
            lock (_lines)
            {
                return _lines.Count;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Signal(SigCont);
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        await _reader;
        _process.Dispose();
    }

    private void Signal(int signal)
    {
        if (!_process.HasExited)
        {
            _ = Signals.Send(_process.Id, signal);
        }
    }

    private async Task<string> ErrorsAsync() =>
        _process.HasExited ? await _process.StandardError.ReadToEndAsync() : "";

    private async Task ReadAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            lock (_lines)
            {
                _lines.Add((Stopwatch.GetTimestamp(), line));
                _changed.TrySetResult();
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        lock (_lines)
        {
            _changed.TrySetResult();
        }
    }
}
