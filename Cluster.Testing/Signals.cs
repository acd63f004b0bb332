using System.Runtime.InteropServices;

namespace Cluster.Testing;

/// <summary>POSIX signals to our child processes (SIGTERM for graceful stops, SIGSTOP/SIGCONT to freeze one).</summary>
public static partial class Signals
{
    public const int Hangup = 1;
    public const int Term = 15;
    public const int Stop = 19;
    public const int Continue = 18;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false if it is gone.</summary>
    public static bool Send(int pid, int signal) => Kill(pid, signal) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
