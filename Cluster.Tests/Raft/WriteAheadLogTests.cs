using Cluster.Raft.Storage;
using Cluster.Raft.Wire;
using Google.Protobuf;

namespace Cluster.Tests.Raft;

/// <summary>The write-ahead log against real files: reopen, overwrite, torn tails, damage, segments, compaction.</summary>
public sealed class WriteAheadLogTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "wal-" + Guid.NewGuid().ToString("n"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static Entry E(ulong index, ulong term, string data = "") =>
        new() { Index = index, Term = term, Data = ByteString.CopyFromUtf8(data.Length > 0 ? data : $"cmd-{index}") };

    private static List<Entry> Range(ulong from, ulong to, ulong term) =>
        [.. Enumerable.Range((int)from, (int)(to - from + 1)).Select(i => E((ulong)i, term))];

    private WriteAheadLog Open(WalOptions? options = null) => WriteAheadLog.Open(_dir, options);

    private string LastSegment() => Directory.GetFiles(_dir, "*.wal").Order(StringComparer.Ordinal).Last();

    [Fact]
    public void Entries_and_hard_state_survive_a_reopen()
    {
        using (var wal = Open())
        {
            wal.Append(Range(1, 100, 1), new HardState { Term = 1, Vote = 2, Commit = 50 });
            wal.Sync();
        }

        using var reopened = Open();
        Assert.Equal(Range(1, 100, 1), reopened.Recovered.Entries);
        Assert.Equal(new HardState { Term = 1, Vote = 2, Commit = 50 }, reopened.Recovered.HardState);
        Assert.Equal(0, reopened.Recovered.RepairedBytes);
    }

    [Fact]
    public void One_sync_makes_many_appends_durable()
    {
        using (var wal = Open())
        {
            for (ulong i = 1; i <= 1000; i++)
            {
                wal.Append([E(i, 1)]);
            }

            wal.Sync();
            Assert.Equal(1, wal.Syncs);
        }

        using var reopened = Open();
        Assert.Equal(1000, reopened.Recovered.Entries.Count);
    }

    [Fact]
    public void An_entry_at_an_existing_index_replaces_it_and_everything_after()
    {
        using (var wal = Open())
        {
            wal.Append(Range(1, 10, 1));
            wal.Append([E(5, 2, "new-5"), E(6, 2, "new-6")], new HardState { Term = 2 });
            wal.Sync();
        }

        using var reopened = Open();
        var entries = reopened.Recovered.Entries;
        Assert.Equal(6, entries.Count);
        Assert.Equal([1UL, 1, 1, 1, 2, 2], entries.Select(e => e.Term));
        Assert.Equal("new-6", entries[^1].Data.ToStringUtf8());
    }

    [Fact]
    public void Appends_that_would_leave_a_gap_or_rewrite_the_snapshot_are_refused()
    {
        using var wal = Open();
        wal.Append(Range(1, 5, 1));
        Assert.Throws<ArgumentException>(() => wal.Append([E(7, 1)]));
        wal.MarkSnapshot(4, 1);
        Assert.Throws<ArgumentException>(() => wal.Append([E(3, 2)]));
        wal.Append([E(5, 2), E(6, 2)]);
    }

    [Fact]
    public void A_torn_tail_is_cut_off_at_every_possible_crash_point()
    {
        using (var wal = Open())
        {
            wal.Append(Range(1, 20, 1));
            wal.Sync();
        }

        var path = LastSegment();
        var synced = File.ReadAllBytes(path);
        using (var wal = Open())
        {
            wal.Append(Range(21, 30, 2), new HardState { Term = 2, Vote = 1 });
            wal.Sync();
        }

        var full = File.ReadAllBytes(path);

        // A crash can stop the unsynced appends at any byte: each cut must open as a clean prefix.
        for (var cut = synced.Length; cut < full.Length; cut++)
        {
            File.WriteAllBytes(path, full[..cut]);
            using var wal = Open();
            var entries = wal.Recovered.Entries;
            Assert.InRange(entries.Count, 20, 30); // 30: the cut fell in the trailing hard state
            Assert.Equal(Range(1, 20, 1).Concat(Range(21, (ulong)entries.Count, 2)), entries);
            Assert.Equal(cut - (int)new FileInfo(path).Length, wal.Recovered.RepairedBytes);

            // The repaired log takes appends and reopens cleanly.
            wal.Append([E((ulong)entries.Count + 1, 3)]);
            wal.Sync();
            wal.Dispose();
            using var again = Open();
            Assert.Equal(entries.Count + 1, again.Recovered.Entries.Count);
            Assert.Equal(0, again.Recovered.RepairedBytes);
        }
    }

    [Fact]
    public void A_zeroed_tail_is_cut_off()
    {
        using (var wal = Open())
        {
            wal.Append(Range(1, 5, 1));
            wal.Sync();
        }

        using (var file = new FileStream(LastSegment(), FileMode.Append))
        {
            file.Write(new byte[4096]);
        }

        using var reopened = Open();
        Assert.Equal(5, reopened.Recovered.Entries.Count);
        Assert.Equal(4096, reopened.Recovered.RepairedBytes);
    }

    [Fact]
    public void Damage_with_intact_records_after_it_stops_the_node()
    {
        using (var wal = Open())
        {
            wal.Append(Range(1, 50, 1));
            wal.Sync();
        }

        var path = LastSegment();
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<CorruptLogException>(() => Open());
        Assert.Contains(Path.GetFileName(path), error.Message, StringComparison.Ordinal);
        Assert.Contains("damaged record at byte", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Damage_in_an_older_segment_stops_the_node_even_at_its_end()
    {
        var options = new WalOptions { SegmentBytes = 2048 };
        using (var wal = Open(options))
        {
            for (ulong i = 1; i <= 200; i++)
            {
                wal.Append([E(i, 1, new string('x', 50))]);
                wal.Sync();
            }

            Assert.True(wal.SegmentCount > 3);
        }

        var first = Directory.GetFiles(_dir, "*.wal").Order(StringComparer.Ordinal).First();
        var bytes = File.ReadAllBytes(first);
        File.WriteAllBytes(first, bytes[..^3]);
        Assert.Throws<CorruptLogException>(() => Open(options));
    }

    [Fact]
    public void A_missing_segment_stops_the_node()
    {
        var options = new WalOptions { SegmentBytes = 1024 };
        using (var wal = Open(options))
        {
            for (ulong i = 1; i <= 100; i++)
            {
                wal.Append([E(i, 1, new string('y', 40))]);
                wal.Sync();
            }
        }

        var segments = Directory.GetFiles(_dir, "*.wal").Order(StringComparer.Ordinal).ToList();
        var second = File.ReadAllBytes(segments[1]);
        File.Delete(segments[1]);
        Assert.Contains("missing", Assert.Throws<CorruptLogException>(() => Open(options)).Message, StringComparison.Ordinal);

        // Losing the oldest segment, with no snapshot to cover it, is caught as well.
        File.WriteAllBytes(segments[1], second);
        File.Delete(segments[0]);
        Assert.Contains("missing", Assert.Throws<CorruptLogException>(() => Open(options)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Segments_roll_and_a_snapshot_mark_deletes_the_ones_it_covers_without_losing_state()
    {
        var options = new WalOptions { SegmentBytes = 4096 };
        using (var wal = Open(options))
        {
            for (ulong i = 1; i <= 300; i++)
            {
                wal.Append([E(i, 1, new string('z', 60))], i == 10 ? new HardState { Term = 1, Vote = 3, Commit = 9 } : null);
                wal.Sync();
            }

            var before = wal.SegmentCount;
            Assert.True(before > 5);
            wal.MarkSnapshot(250, 1);
            Assert.True(wal.SegmentCount < before);
        }

        using var reopened = Open(options);
        Assert.Equal(new SnapshotMark { Index = 250, Term = 1 }, reopened.Recovered.Snapshot);
        Assert.Equal(Range(251, 300, 1).Select(e => e.Index), reopened.Recovered.Entries.Select(e => e.Index));
        Assert.Equal(3UL, reopened.Recovered.HardState.Vote); // written long ago, carried by every new segment
    }

    [Fact]
    public void A_half_created_segment_is_ignored_and_names_that_are_not_segments_are_refused()
    {
        using (var wal = Open())
        {
            wal.Append(Range(1, 3, 1));
            wal.Sync();
        }

        File.WriteAllBytes(Path.Combine(_dir, "0000000000000002.wal.tmp"), [1, 2, 3]);
        using (var reopened = Open())
        {
            Assert.Equal(3, reopened.Recovered.Entries.Count);
        }

        File.WriteAllBytes(Path.Combine(_dir, "garbage.wal"), [1, 2, 3]);
        Assert.Throws<CorruptLogException>(() => Open());
    }
}
