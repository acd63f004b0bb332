using System.Globalization;
using Cluster.Raft.Wire;
using Google.Protobuf;

namespace Cluster.Raft.Storage;

/// <summary>
/// The Raft log and hard state on disk: numbered segment files of checksummed records
/// (<c>0000000000000001.wal</c>, ...), appended and made durable by <see cref="Sync"/> — one
/// fsync for everything appended since the last one, which is how many proposals share a disk
/// write (group commit). An entry at an index already in the log replaces it and everything
/// after it, as Raft requires of a follower. A segment starts with the current hard state and
/// snapshot mark, so segments wholly covered by a snapshot can be deleted without losing
/// either. Opening replays every segment: a torn write at the very end of the last segment (a
/// crash mid-append) is cut off; damage anywhere else stops the node with
/// <see cref="CorruptLogException"/> rather than silently losing acknowledged entries.
/// Not thread-safe: one driver owns it.
/// </summary>
public sealed class WriteAheadLog : IDisposable
{
    private const uint Version = 1;
    private const string Extension = ".wal";

    private readonly string _directory;
    private readonly WalOptions _options;
    private readonly List<Segment> _segments;
    private FileStream _current;
    private HardState _hardState;
    private SnapshotMark _snapshot;
    private ulong _lastIndex;
    private byte[] _buffer = new byte[4096];

    private WriteAheadLog(string directory, WalOptions options, List<Segment> segments, FileStream current, RecoveredLog recovered)
    {
        _directory = directory;
        _options = options;
        _segments = segments;
        _current = current;
        _hardState = recovered.HardState;
        _snapshot = recovered.Snapshot;
        _lastIndex = recovered.Entries.Count > 0 ? recovered.Entries[^1].Index : recovered.Snapshot.Index;
        Recovered = recovered;
    }

    /// <summary>What the log held when it was opened.</summary>
    public RecoveredLog Recovered { get; }

    /// <summary>fsyncs performed (of segment files; directory syncs not counted).</summary>
    public long Syncs { get; private set; }

    public int SegmentCount => _segments.Count;

    public static WriteAheadLog Open(string directory, WalOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        options ??= new WalOptions();
        Directory.CreateDirectory(directory);
        var files = Directory.GetFiles(directory, "*" + Extension)
            .Select(path => (Path: path, Sequence: ParseSequence(path)))
            .OrderBy(f => f.Sequence)
            .ToList();

        var replay = new Replay();
        var segments = new List<Segment>();
        long repaired = 0;
        for (var i = 0; i < files.Count; i++)
        {
            var (path, sequence) = files[i];
            if (i > 0 && sequence != files[i - 1].Sequence + 1)
            {
                throw new CorruptLogException($"{path}: segment {sequence} follows {files[i - 1].Sequence}; a segment is missing");
            }

            var segment = new Segment(sequence, path);
            repaired += replay.Read(segment, isOldest: i == 0, isLast: i == files.Count - 1);
            segments.Add(segment);
        }

        replay.CheckStart(directory);

        var recovered = new RecoveredLog(replay.HardState, replay.Snapshot, replay.Entries, repaired);
        FileStream current;
        if (segments.Count == 0)
        {
            var first = new Segment(1, SegmentPath(directory, 1));
            current = CreateSegment(first, replay.HardState, replay.Snapshot, options);
            segments.Add(first);
        }
        else
        {
            current = new FileStream(segments[^1].Path, FileMode.Open, FileAccess.Write, FileShare.Read, 1 << 16);
            current.Seek(0, SeekOrigin.End);
        }

        return new WriteAheadLog(directory, options, segments, current, recovered);
    }

    /// <summary>Appends entries (and the hard state, when given); durable only after <see cref="Sync"/>.</summary>
    public void Append(IReadOnlyList<Entry> entries, HardState? hardState = null)
    {
        ArgumentNullException.ThrowIfNull(entries);
        foreach (var entry in entries)
        {
            if (entry.Index == 0 || entry.Index > _lastIndex + 1 || entry.Index <= _snapshot.Index)
            {
                throw new ArgumentException($"entry {entry.Index} cannot follow the log's last index {_lastIndex} (snapshot at {_snapshot.Index})", nameof(entries));
            }

            WriteRecord(WalRecordType.Entry, entry);
            _lastIndex = entry.Index;
            _segments[^1].LastIndex = Math.Max(_segments[^1].LastIndex, entry.Index);
        }

        if (hardState is not null)
        {
            WriteRecord(WalRecordType.HardState, hardState);
            _hardState = hardState.Clone();
        }
    }

    /// <summary>Makes everything appended so far durable (one fsync), then starts a new segment if this one is full.</summary>
    public void Sync()
    {
        _current.Flush(flushToDisk: _options.Fsync);
        Syncs++;
        if (_current.Length >= _options.SegmentBytes)
        {
            Roll();
        }
    }

    /// <summary>
    /// Records that a snapshot covers the log through <paramref name="index"/> (durably), and
    /// deletes the segments it makes unnecessary.
    /// </summary>
    public void MarkSnapshot(ulong index, ulong term)
    {
        if (index <= _snapshot.Index)
        {
            return;
        }

        _snapshot = new SnapshotMark { Index = index, Term = term };
        _lastIndex = Math.Max(_lastIndex, index);
        WriteRecord(WalRecordType.SnapshotMark, _snapshot);
        Sync();

        var obsolete = _segments.Take(_segments.Count - 1).TakeWhile(s => s.LastIndex <= index).ToList();
        foreach (var segment in obsolete)
        {
            File.Delete(segment.Path);
            _segments.Remove(segment);
        }

        if (obsolete.Count > 0 && _options.Fsync)
        {
            DirectorySync.Fsync(_directory);
        }
    }

    public void Dispose() => _current.Dispose();

    private void Roll()
    {
        _current.Dispose();
        var next = new Segment(_segments[^1].Sequence + 1, SegmentPath(_directory, _segments[^1].Sequence + 1));
        _current = CreateSegment(next, _hardState, _snapshot, _options);
        _segments.Add(next);
    }

    private void WriteRecord(WalRecordType type, IMessage message) => WriteRecord(_current, type, message, ref _buffer);

    private static void WriteRecord(Stream stream, WalRecordType type, IMessage message, ref byte[] buffer)
    {
        var size = message.CalculateSize();
        if (size > WalRecord.MaxPayload)
        {
            throw new ArgumentException($"a {type} record of {size} bytes is over the {WalRecord.MaxPayload}-byte limit");
        }

        if (buffer.Length < size)
        {
            buffer = new byte[Math.Max(size, buffer.Length * 2)];
        }

        message.WriteTo(buffer.AsSpan(0, size));
        WalRecord.Write(stream, type, buffer.AsSpan(0, size));
    }

    /// <summary>Writes a new segment's opening records under a temporary name, fsyncs, then renames it into place.</summary>
    private static FileStream CreateSegment(Segment segment, HardState hardState, SnapshotMark snapshot, WalOptions options)
    {
        var temporary = segment.Path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            var buffer = new byte[256];
            WriteRecord(stream, WalRecordType.Header, new SegmentHeader { Version = Version, Sequence = segment.Sequence }, ref buffer);
            WriteRecord(stream, WalRecordType.HardState, hardState, ref buffer);
            WriteRecord(stream, WalRecordType.SnapshotMark, snapshot, ref buffer);
            stream.Flush(flushToDisk: options.Fsync);
        }

        File.Move(temporary, segment.Path);
        if (options.Fsync)
        {
            DirectorySync.Fsync(Path.GetDirectoryName(segment.Path)!);
        }

        var current = new FileStream(segment.Path, FileMode.Open, FileAccess.Write, FileShare.Read, 1 << 16);
        current.Seek(0, SeekOrigin.End);
        return current;
    }

    private static string SegmentPath(string directory, ulong sequence) =>
        Path.Combine(directory, sequence.ToString("D16", CultureInfo.InvariantCulture) + Extension);

    private static ulong ParseSequence(string path) =>
        ulong.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence) && sequence > 0
            ? sequence
            : throw new CorruptLogException($"{path}: not a segment name (expected 16 digits{Extension})");

    private sealed class Segment(ulong sequence, string path)
    {
        public ulong Sequence { get; } = sequence;

        public string Path { get; } = path;

        /// <summary>Highest entry index written into this segment (0 if none).</summary>
        public ulong LastIndex { get; set; }
    }

    /// <summary>Folds segments, in order, into the log they describe.</summary>
    private sealed class Replay
    {
        public HardState HardState { get; private set; } = new();

        public SnapshotMark Snapshot { get; private set; } = new();

        public List<Entry> Entries { get; } = [];

        // While reading the oldest surviving segment, the log may start anywhere: the segments
        // before it were deleted under a snapshot whose mark comes later. CheckStart verifies it.
        private bool _readingOldest;

        /// <summary>Returns how many bytes of torn tail were cut off.</summary>
        public long Read(Segment segment, bool isOldest, bool isLast)
        {
            _readingOldest = isOldest;
            var data = File.ReadAllBytes(segment.Path);
            var offset = 0;
            var first = true;
            while (offset < data.Length)
            {
                if (!WalRecord.TryRead(data, offset, out var type, out var payload, out var next))
                {
                    if (isLast && IsTornTail(data, offset))
                    {
                        using var file = new FileStream(segment.Path, FileMode.Open, FileAccess.Write);
                        file.SetLength(offset);
                        file.Flush(flushToDisk: true);
                        return data.Length - offset;
                    }

                    throw new CorruptLogException($"{segment.Path}: damaged record at byte {offset}, with intact data after it");
                }

                try
                {
                    Apply(segment, type, payload, first);
                }
                catch (InvalidProtocolBufferException exception)
                {
                    throw new CorruptLogException($"{segment.Path}: record at byte {offset} passed its checksum but does not parse: {exception.Message}");
                }

                first = false;
                offset = next;
            }

            if (first)
            {
                throw new CorruptLogException($"{segment.Path}: empty segment (no header)");
            }

            return 0;
        }

        /// <summary>A crash mid-append leaves a record that runs to the end of the file, or zeros after it.</summary>
        private static bool IsTornTail(byte[] data, int offset)
        {
            if (data.Length - offset < WalRecord.HeaderSize)
            {
                return true;
            }

            var length = BitConverter.ToUInt32(data, offset);
            if ((ulong)offset + WalRecord.HeaderSize + length >= (ulong)data.Length)
            {
                return true;
            }

            return data.AsSpan(offset).IndexOfAnyExcept((byte)0) < 0;
        }

        private void Apply(Segment segment, WalRecordType type, ReadOnlySpan<byte> payload, bool first)
        {
            if (first != (type == WalRecordType.Header))
            {
                throw new CorruptLogException($"{segment.Path}: a segment must start with exactly one header");
            }

            switch (type)
            {
                case WalRecordType.Header:
                    var header = SegmentHeader.Parser.ParseFrom(payload);
                    if (header.Version != Version || header.Sequence != segment.Sequence)
                    {
                        throw new CorruptLogException($"{segment.Path}: header says version {header.Version}, segment {header.Sequence}");
                    }

                    break;
                case WalRecordType.HardState:
                    HardState = HardState.Parser.ParseFrom(payload);
                    break;
                case WalRecordType.SnapshotMark:
                    var mark = SnapshotMark.Parser.ParseFrom(payload);
                    if (mark.Index > Snapshot.Index)
                    {
                        Snapshot = mark;
                        Entries.RemoveAll(e => e.Index <= mark.Index);
                    }

                    break;
                case WalRecordType.Entry:
                    AppendEntry(segment, Entry.Parser.ParseFrom(payload));
                    break;
            }
        }

        private void AppendEntry(Segment segment, Entry entry)
        {
            segment.LastIndex = Math.Max(segment.LastIndex, entry.Index);
            if (entry.Index <= Snapshot.Index)
            {
                return; // already inside the snapshot
            }

            if (Entries.Count == 0 || entry.Index < Entries[0].Index)
            {
                if (entry.Index != Snapshot.Index + 1 && !_readingOldest)
                {
                    throw new CorruptLogException($"{segment.Path}: entry {entry.Index} after {Snapshot.Index}: a gap");
                }

                Entries.Clear();
                Entries.Add(entry);
                return;
            }

            var last = Entries[^1].Index;
            if (entry.Index > last + 1)
            {
                throw new CorruptLogException($"{segment.Path}: entry {entry.Index} after {last}: a gap");
            }

            if (entry.Index <= last)
            {
                // A later write at an existing index replaced it and everything after it.
                var from = (int)(entry.Index - Entries[0].Index);
                Entries.RemoveRange(from, Entries.Count - from);
            }

            Entries.Add(entry);
        }

        /// <summary>The log must continue exactly where the snapshot ends.</summary>
        public void CheckStart(string directory)
        {
            if (Entries.Count > 0 && Entries[0].Index != Snapshot.Index + 1)
            {
                throw new CorruptLogException($"{directory}: the log starts at entry {Entries[0].Index} but the snapshot ends at {Snapshot.Index}; segments are missing");
            }
        }
    }
}
