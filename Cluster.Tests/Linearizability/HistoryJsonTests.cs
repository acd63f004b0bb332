using Cluster.Testing.Linearizability;

namespace Cluster.Tests.Linearizability;

public sealed class HistoryJsonTests
{
    private static History Sample() => new HistoryBuilder("a")
        .Write(1, "1", 0, 10)
        .Read(2, null, 1, 2, "consistent")
        .Cas(3, null, "x\"y", false, 3, 4)
        .UnknownWrite(4, "2", 5)
        .Read(5, "9", 6, 7, status: OpStatus.Failed)
        .On("lock/é")
        .Acquire(1, "s-1", true, 8, 9)
        .Release(1, "s-1", false, 10, 0, OpStatus.Unknown)
        .Build();

    [Fact]
    public void A_history_survives_a_round_trip_through_a_file()
    {
        var history = Sample();
        var path = Path.Combine(Path.GetTempPath(), $"history-{Guid.NewGuid():N}.jsonl");
        try
        {
            history.Save(path);
            Assert.Equal(history.Count, File.ReadAllLines(path).Length);
            Assert.Equal(history, History.Load(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Each_operation_is_one_line_with_readable_enums()
    {
        var text = new StringWriter();
        Sample().WriteJsonLines(text);
        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(7, lines.Length);
        Assert.Contains("\"kind\":\"cas\"", lines[2]);
        Assert.Contains("\"status\":\"unknown\"", lines[3]);
        Assert.Contains("\"expected\":null", lines[2]);
        Assert.Equal(Sample(), History.ReadJsonLines(new StringReader(text + "\n\n")));
    }

    [Fact]
    public void A_history_rejects_repeated_ids_and_returns_before_calls()
    {
        var op = new Operation(1, 1, "k", OpKind.Write, "1", null, true, 10, 20, OpStatus.Ok);
        Assert.Throws<ArgumentException>(() => new History([op, op with { Process = 2 }]));
        Assert.Throws<ArgumentException>(() => new History([op with { Return = 5 }]));
        _ = new History([op with { Return = 5, Status = OpStatus.Unknown }]);
    }

    [Fact]
    public void Keys_and_sub_histories()
    {
        var history = Sample();
        Assert.Equal(["a", "lock/é"], history.Keys);
        Assert.Equal(2, history.ForKey("lock/é").Count);
        Assert.Equal(2, history.CountOf(OpStatus.Unknown));
    }
}
