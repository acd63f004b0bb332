namespace Cluster.Cli.Commands;

/// <summary>Where a command's input comes from when an argument names it: <c>-</c> is stdin, <c>@path</c> or a path is a file.</summary>
internal static class DataSource
{
    /// <summary>Reads stdin or a file; an <see cref="IOException"/> worded as Go's ("open PATH: no such file or directory").</summary>
    public static async Task<byte[]> ReadAsync(string source, CliEnvironment env)
    {
        if (source == "-")
        {
            using var buffer = new MemoryStream();
            await env.Input.CopyToAsync(buffer);
            return buffer.ToArray();
        }

        var path = source.StartsWith('@') ? source[1..] : source;
        try
        {
            return await File.ReadAllBytesAsync(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new IOException($"open {path}: no such file or directory", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"open {path}: permission denied", e);
        }
    }
}
