using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Cluster.Testing;

/// <summary>
/// A real peer in a process of its own: a grpc-js script from node/interop, or a server of
/// ours (benchmarks). Servers print "listening PORT" once bound; clients print their results
/// and exit. The peer's stdin is held open, so a server that reads it to the end stops when we do.
/// </summary>
public sealed class PeerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly StringBuilder _stderr;

    private PeerProcess(Process process, int port, StringBuilder stderr)
    {
        _process = process;
        Port = port;
        _stderr = stderr;
    }

    public int Port { get; }

    public Uri Address => new($"http://127.0.0.1:{Port}");

    public static string RepoRoot { get; } = FindRepoRoot();

    public static string ScriptPath(string script) => Path.Combine(RepoRoot, "node", "interop", script);

    /// <summary>The built assembly of one of our executables (<paramref name="project"/> relative to the repository), in the configuration the tests run in.</summary>
    public static string BuiltDll(string project, string assembly)
    {
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        return Path.Combine(RepoRoot, project, "bin", configuration, "net10.0", assembly + ".dll");
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

    /// <summary>Starts a grpc-js server script and waits (bounded) for it to report its port.</summary>
    public static Task<PeerProcess> StartNodeServerAsync(string script, params string[] args) =>
        StartServerAsync("node", [ScriptPath(script), .. args], Path.Combine(RepoRoot, "node"));

    /// <summary>Starts any server process and waits (bounded) for it to report its port.</summary>
    public static async Task<PeerProcess> StartServerAsync(string fileName, IEnumerable<string> args, string workingDirectory)
    {
        var process = Start(fileName, args, workingDirectory);
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
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("listening ", StringComparison.Ordinal))
            {
                return new PeerProcess(process, int.Parse(line["listening ".Length..], CultureInfo.InvariantCulture), stderr);
            }
        }

        await process.WaitForExitAsync(timeout.Token);
        throw new InvalidOperationException($"{fileName} exited ({process.ExitCode}) before listening: {stderr}");
    }

    /// <summary>Runs a grpc-js client script to completion (bounded) and returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> RunNodeAsync(string script, TimeSpan timeout, params string[] args) =>
        RunAsync("node", [ScriptPath(script), .. args], timeout, Path.Combine(RepoRoot, "node"));

    /// <summary>Runs any program to completion (bounded; killed if it overruns) and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string fileName, IReadOnlyList<string> args, TimeSpan timeout, string? workingDirectory = null)
    {
        using var process = Start(fileName, args, workingDirectory ?? RepoRoot);
        process.StandardInput.Close();
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
            throw new TimeoutException($"{fileName} {string.Join(' ', args)} did not finish within {timeout}.");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Writes one line to the peer's stdin (its control channel).</summary>
    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>SIGKILL: the peer gets no chance to say goodbye.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Completes when the process exits, or after <paramref name="atMost"/> if it is still running.</summary>
    public async Task ExitedAsync(TimeSpan atMost, CancellationToken cancellationToken)
    {
        try
        {
            await _process.WaitForExitAsync(cancellationToken).WaitAsync(atMost, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
        catch (Exception exception) when (exception is InvalidOperationException or ObjectDisposedException)
        {
            // killed and disposed meanwhile: it has exited
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

    private static Process Start(string fileName, IEnumerable<string> args, string workingDirectory)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
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
