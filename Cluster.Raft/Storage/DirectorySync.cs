using System.Runtime.InteropServices;

namespace Cluster.Raft.Storage;

/// <summary>
/// fsync of a directory, so a created, renamed or deleted file survives a power cut. .NET has
/// no API for it; on Linux we call libc. Elsewhere it is a no-op (and said so here).
/// </summary>
internal static partial class DirectorySync
{
    private const int ReadOnly = 0;
    private const int Directory = 0x10000; // O_DIRECTORY on Linux

    public static void Fsync(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var fd = Open(path, ReadOnly | Directory);
        if (fd < 0)
        {
            throw new IOException($"open({path}) for fsync failed: errno {Marshal.GetLastPInvokeError()}");
        }

        try
        {
            if (FsyncFd(fd) != 0)
            {
                throw new IOException($"fsync({path}) failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FsyncFd(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
