using System.Diagnostics;
using System.Globalization;

namespace Cluster.Benchmarks;

/// <summary>A server in its own process, so client and server never share a runtime. It prints "listening PORT".</summary>
public sealed class ChildServer : IAsyncDisposable
{
    private readonly Process _process;

    private ChildServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public Uri Address => new($"http://127.0.0.1:{Port}");

    /// <summary>This benchmark binary again, with a serve-* command.</summary>
    public static Task<ChildServer> StartSelfAsync(string command)
    {
        var self = Environment.ProcessPath!;
        var args = new List<string>();
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            args.Add(typeof(ChildServer).Assembly.Location);
        }

        args.Add(command);
        return StartAsync(self, args, Environment.CurrentDirectory);
    }

    public static Task<ChildServer> StartNodeAsync(string script) =>
        StartAsync("node", [Testing.NodePeer.ScriptPath(script)], Path.Combine(Testing.NodePeer.RepoRoot, "node"));

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static async Task<ChildServer> StartAsync(string fileName, IEnumerable<string> args, string workingDirectory)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("listening ", StringComparison.Ordinal))
            {
                return new ChildServer(process, int.Parse(line["listening ".Length..], CultureInfo.InvariantCulture));
            }
        }

        throw new InvalidOperationException($"{fileName} exited before listening.");
    }
}
