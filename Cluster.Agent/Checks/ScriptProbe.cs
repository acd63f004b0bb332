using Cluster.Contracts;
using System.ComponentModel;
using System.Diagnostics;
using Cluster.Agent.Config;

namespace Cluster.Agent.Checks;

/// <summary>
/// Consul's script check: runs the args (no shell) and reads its exit code — 0 passing, 1
/// warning, anything else critical — with stdout and stderr together as the output, keeping
/// the end when it is too long. At the timeout the whole process tree is killed.
/// </summary>
internal sealed class ScriptProbe(ValueList<string> args, TimeSpan timeout, int outputMaxSize) : ICheckProbe
{
    public async Task<CheckResult> RunAsync(CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(args[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args.Skip(1))
        {
            start.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new Win32Exception($"{args[0]} did not start");
        }
        catch (Win32Exception ex)
        {
            return CheckResult.Critical($"Failed to run {args[0]}: {ex.Message}");
        }

        using (process)
        {
            process.StandardInput.Close(); // a script that reads stdin gets end-of-file, not a hang
            var output = new TailBuffer(outputMaxSize);
            var reads = Task.WhenAll(CopyAsync(process.StandardOutput.BaseStream, output), CopyAsync(process.StandardError.BaseStream, output));
            try
            {
                await process.WaitForExitAsync(cancellationToken);
                // What the script wrote last may still be in the pipes; a child it left behind
                // can hold them open, so this wait is bounded too.
                await reads.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                KillTree(process);
                if (!process.HasExited)
                {
                    await process.WaitForExitAsync(CancellationToken.None);
                }

                return CheckResult.Critical($"Timed out ({GoDuration.Format(timeout)}) running check");
            }

            var text = output.ToString();
            return process.ExitCode switch
            {
                0 => CheckResult.Passing(text),
                1 => CheckResult.Warning(text),
                _ => CheckResult.Critical(text),
            };
        }
    }

    public void Dispose()
    {
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited on its own meanwhile.
        }
        catch (Win32Exception)
        {
            // A member of the tree exited while it was being walked.
        }
    }

    private static async Task CopyAsync(Stream from, TailBuffer to)
    {
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer)) > 0)
            {
                to.Write(buffer.AsSpan(0, read));
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The process was disposed under a read kept open by a child that outlived it.
        }
    }
}
