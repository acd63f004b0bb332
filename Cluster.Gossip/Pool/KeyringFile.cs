using System.Text.Json;
using Cluster.Gossip.Security;

namespace Cluster.Gossip.Pool;

/// <summary>
/// The keyring on disk: a JSON array of base64 keys, the primary first (the layout of Consul's
/// and Serf's <c>local.keyring</c>). Written to a temporary file, flushed and renamed, so a crash
/// leaves the old ring or the new one, never half of one.
/// </summary>
public static class KeyringFile
{
    /// <summary>The saved keyring, or null if there is no file; a clear error (with the line) if it is damaged.</summary>
    public static Keyring? Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            return null;
        }

        string[]? keys;
        try
        {
            keys = JsonSerializer.Deserialize<string[]>(File.ReadAllText(path));
        }
        catch (JsonException exception)
        {
            throw new InvalidDataException($"{path}:{(exception.LineNumber ?? 0) + 1}: the keyring must be a JSON array of base64 keys ({exception.Message})", exception);
        }

        if (keys is null || keys.Length == 0)
        {
            throw new InvalidDataException($"{path}:1: the keyring holds no keys");
        }

        var parsed = new List<byte[]>();
        for (var i = 0; i < keys.Length; i++)
        {
            try
            {
                parsed.Add(Keyring.ParseKey(keys[i]));
            }
            catch (ArgumentException exception)
            {
                throw new InvalidDataException($"{path}: key {i + 1}: {exception.Message}", exception);
            }
        }

        return new Keyring(parsed, parsed[0]);
    }

    public static void Save(string path, Keyring keyring)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(keyring);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = path + ".tmp";
        File.Delete(temporary);
        var secret = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            secret.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // keys: owner only
        }

        using (var file = new FileStream(temporary, secret))
        {
            JsonSerializer.Serialize(file, keyring.List());
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
