using System.Diagnostics;
using System.Globalization;
using Cluster.Agent.Checks;
using Cluster.Agent.Config;

namespace Cluster.Tests.Checks;

/// <summary>Script checks running /bin/sh: exit codes, output, limits, and the process tree killed at the timeout.</summary>
public sealed class ScriptCheckTests
{
    private static readonly CheckOptions Enabled = new() { EnableScriptChecks = true };

    private static CheckDefinition Script(string command) => new() { Name = "disk", Args = ["/bin/sh", "-c", command], Interval = TimeSpan.FromSeconds(10) };

    private static async Task<CheckResult> RunOnceAsync(CheckDefinition definition, CheckOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var factory = new CheckMonitorFactory(options ?? Enabled);
        using var probe = factory.CreateProbe(definition);
        return await probe.RunAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
    }

    [Theory]
    [InlineData(0, "passing")]
    [InlineData(1, "warning")]
    [InlineData(2, "critical")]
    [InlineData(127, "critical")]
    public async Task The_exit_code_decides(int code, string status)
    {
        var result = await RunOnceAsync(Script($"echo out; exit {code}"));

        Assert.Equal(new CheckResult(status, "out\n"), result);
    }

    [Fact]
    public async Task Stdout_and_stderr_are_both_the_output()
    {
        var result = await RunOnceAsync(Script("echo to-out; echo to-err >&2; exit 1"));

        Assert.Equal(CheckStatus.Warning, result.Status);
        Assert.Contains("to-out\n", result.Output, StringComparison.Ordinal);
        Assert.Contains("to-err\n", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Big_output_keeps_its_end_within_the_limit_and_says_so()
    {
        var result = await RunOnceAsync(Script("head -c 10000 /dev/zero | tr '\\0' x; echo END"), Enabled with { OutputMaxSize = 100 });

        Assert.Equal("Captured 100 of 10004 bytes\n...\n" + new string('x', 96) + "END\n", result.Output);
    }

    [Fact]
    public async Task A_missing_program_is_critical()
    {
        var result = await RunOnceAsync(new CheckDefinition { Name = "x", Args = ["/nonexistent/check"], Interval = TimeSpan.FromSeconds(1) });

        Assert.Equal(CheckStatus.Critical, result.Status);
        Assert.StartsWith("Failed to run /nonexistent/check: ", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Script_checks_are_refused_unless_enabled()
    {
        using var factory = new CheckMonitorFactory(new CheckOptions());

        var error = Assert.Throws<InvalidCheckException>(() => factory.Create(Script("true"), _ => { }));

        Assert.Contains("enable_script_checks", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task At_the_timeout_the_whole_process_tree_is_killed()
    {
        // The script starts `sleep 100` holding the write end of a FIFO and tells us its pid
        // there; the reader sees end-of-file only once that sleep has died.
        var directory = Directory.CreateTempSubdirectory("script-check-");
        try
        {
            var fifo = Path.Combine(directory.FullName, "fifo");
            using (var mkfifo = Process.Start("mkfifo", [fifo]))
            {
                await mkfifo.WaitForExitAsync();
                Assert.Equal(0, mkfifo.ExitCode);
            }

            var reading = Task.Run(() => File.OpenRead(fifo));
            using var timeout = new CancellationTokenSource();
            var definition = Script($"exec 3>'{fifo}'; sleep 100 & echo $! >&3; exec 3>&-; wait") with { Timeout = TimeSpan.FromSeconds(7) };
            var run = RunOnceAsync(definition, cancellationToken: timeout.Token);

            await using var stream = await reading.WaitAsync(TimeSpan.FromSeconds(30));
            using var reader = new StreamReader(stream);
            var pid = int.Parse((await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)))!, CultureInfo.InvariantCulture);
            Assert.True(IsAlive(pid));

            await timeout.CancelAsync(); // what the monitor's timeout does

            Assert.Equal(CheckResult.Critical("Timed out (7s) running check"), await run);
            // End-of-file: the kernel closes a process's files only as it exits, so the sleep is dead.
            Assert.Equal("", await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Running, as opposed to gone or a zombie waiting to be reaped.</summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            return state is not ('Z' or 'X');
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
    }
}
