using System.Buffers.Binary;
using System.Globalization;

namespace Cluster.Raft.Storage;

/// <summary>
/// Snapshot files in a directory, written atomically: the data goes to a temporary file, is
/// fsynced, renamed to <c>{term:D20}-{index:D20}.snap</c>, and the directory is fsynced, so
/// after a crash a snapshot is either wholly there or not at all. Each file ends with a
/// CRC32C of its contents, checked on load. Older snapshots are pruned once a newer one is in
/// place, keeping <see cref="Retain"/>.
/// </summary>
public sealed class SnapshotStore
{
    private const string Extension = ".snap";
    private readonly string _directory;
    private readonly bool _fsync;

    public SnapshotStore(string directory, bool fsync = true, int retain = 2)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(retain, 1);
        _directory = directory;
        _fsync = fsync;
        Retain = retain;
        Directory.CreateDirectory(directory);
        foreach (var leftover in Directory.GetFiles(directory, "*.tmp"))
        {
            File.Delete(leftover); // a write that a crash interrupted
        }
    }

    public int Retain { get; }

    /// <summary>Writes a snapshot of the state machine through (<paramref name="index"/>, <paramref name="term"/>).</summary>
    public async Task SaveAsync(ulong index, ulong term, Func<Stream, Task> write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        var path = PathFor(index, term);
        var temporary = path + ".tmp";
        try
        {
            await using var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            var checksummed = new ChecksumStream(file);
            await write(checksummed);
            var trailer = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(trailer, checksummed.Crc);
            await file.WriteAsync(trailer, cancellationToken);
            await file.FlushAsync(cancellationToken);
            file.Flush(flushToDisk: _fsync);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }

        File.Move(temporary, path, overwrite: true);
        if (_fsync)
        {
            DirectorySync.Fsync(_directory);
        }

        Prune();
    }

    /// <summary>The snapshot through (<paramref name="index"/>, <paramref name="term"/>) if it is there and intact, else null.</summary>
    public byte[]? Load(ulong index, ulong term)
    {
        var path = PathFor(index, term);
        if (!File.Exists(path))
        {
            return null;
        }

        var bytes = File.ReadAllBytes(path);
        return Intact(bytes) ? bytes[..^4] : null;
    }

    private static bool Intact(byte[] bytes) =>
        bytes.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4)) == WalRecord.Checksum(0, bytes.AsSpan(0, bytes.Length - 4));

    /// <summary>The newest intact snapshot (index, term, data), or null; damaged ones are skipped (and reported in <paramref name="skipped"/>).</summary>
    public (ulong Index, ulong Term, byte[] Data)? LoadNewest(List<string>? skipped = null)
    {
        foreach (var (path, index, term) in List().OrderByDescending(s => s.Index))
        {
            var bytes = File.ReadAllBytes(path);
            if (Intact(bytes))
            {
                return (index, term, bytes[..^4]);
            }

            skipped?.Add(path);
        }

        return null;
    }

    private void Prune()
    {
        foreach (var (path, _, _) in List().OrderByDescending(s => s.Index).Skip(Retain))
        {
            File.Delete(path);
        }
    }

    private IEnumerable<(string Path, ulong Index, ulong Term)> List()
    {
        foreach (var path in Directory.GetFiles(_directory, "*" + Extension))
        {
            var parts = Path.GetFileNameWithoutExtension(path).Split('-');
            if (parts.Length == 2 &&
                ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var term) &&
                ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                yield return (path, index, term);
            }
        }
    }

    private string PathFor(ulong index, ulong term) =>
        Path.Combine(_directory, string.Create(CultureInfo.InvariantCulture, $"{term:D20}-{index:D20}{Extension}"));

    /// <summary>Passes writes through while computing their CRC32C (same function as the log records, type byte 0).</summary>
    private sealed class ChecksumStream(Stream inner) : Stream
    {
        private uint _state = Seed();

        public uint Crc => ~_state;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _state = WalRecord.Continue(_state, buffer);
            inner.Write(buffer);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _state = WalRecord.Continue(_state, buffer.Span);
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        private static uint Seed() => WalRecord.Continue(0xFFFFFFFFu, [0]);
    }
}
