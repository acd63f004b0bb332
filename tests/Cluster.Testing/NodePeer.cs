using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Cluster.Testing;

/// <summary>
/// A real grpc-js peer: a node script from node/interop run as a child process. Servers print
/// "listening PORT" once bound; clients print their results and exit.
/// </summary>
public sealed class NodePeer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    private NodePeer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public static string RepoRoot { get; } = FindRepoRoot();

    public static string ScriptPath(string script) => Path.Combine(RepoRoot, "node", "interop", script);

    /// <summary>Starts a server script and waits (bounded) for it to report its port.</summary>
    public static async Task<NodePeer> StartServerAsync(string script, params string[] args)
    {
        var process = Start(script, args);
        var peer = new NodePeer(process, 0);
        process.ErrorDataReceived += (_, e) =>
        {
            lock (peer._stderr)
            {
                peer._stderr.AppendLine(e.Data);
            }
        };
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(StartTimeout);
        while (true)
        {
            var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
            if (line is null)
            {
                await process.WaitForExitAsync(timeout.Token);
                throw new InvalidOperationException($"{script} exited ({process.ExitCode}) before listening: {peer.Stderr}");
            }

            if (line.StartsWith("listening ", StringComparison.Ordinal))
            {
                var port = int.Parse(line["listening ".Length..], CultureInfo.InvariantCulture);
                return new NodePeer(process, port);
            }
        }
    }

    /// <summary>Runs a client script to completion (bounded) and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string script, TimeSpan timeout, params string[] args)
    {
        using var process = Start(script, args);
        using var cts = new CancellationTokenSource(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(cts.Token);
        var stderr = process.StandardError.ReadToEndAsync(cts.Token);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{script} {string.Join(' ', args)} did not finish within {timeout}.");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static Process Start(string script, string[] args)
    {
        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = Path.Combine(RepoRoot, "node"),
        };
        info.ArgumentList.Add(ScriptPath(script));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("Could not start node.");
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Cluster.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Cluster.sln above {AppContext.BaseDirectory}.");
    }
}
