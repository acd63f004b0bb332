using Cluster.Testing.Linearizability;

namespace Cluster.Tests.Linearizability;

public sealed class RegisterCheckerTests
{
    private static CheckResult Check(HistoryBuilder history) => LinearizabilityChecker.Check(history.Build(), RegisterModel.Instance);

    private static void AssertLinearizable(HistoryBuilder history) => CheckerAsserts.AssertLinearizable(RegisterModel.Instance, history);

    private static FailureWindow AssertNotLinearizable(HistoryBuilder history, params int[] inWindow) =>
        CheckerAsserts.AssertNotLinearizable(RegisterModel.Instance, history, inWindow);

    [Fact]
    public void An_empty_history_is_linearizable()
    {
        var result = LinearizabilityChecker.Check(new History([]), RegisterModel.Instance);
        Assert.Equal(Verdict.Linearizable, result.Verdict);
        Assert.Empty(result.Keys);
    }

    [Fact]
    public void A_sequential_history_that_follows_the_register_is_linearizable() =>
        AssertLinearizable(new HistoryBuilder()
            .Read(1, null, 0, 1)
            .Cas(1, null, "1", true, 2, 3)
            .Read(1, "1", 4, 5)
            .Cas(1, "1", "2", true, 6, 7)
            .Cas(1, "1", "3", false, 8, 9)
            .Cas(1, null, "3", false, 10, 11)
            .Read(1, "2", 12, 13)
            .Write(1, "4", 14, 15)
            .Read(1, "4", 16, 17));

    [Fact]
    public void Concurrent_operations_may_take_effect_in_either_order() =>
        AssertLinearizable(new HistoryBuilder()
            .Write(1, "1", 0, 10)
            .Write(2, "2", 5, 15)
            .Read(3, "2", 6, 12)
            .Read(4, "1", 11, 14)
            .Read(3, "1", 20, 30)
            .Read(1, null, -5, 1));

    [Fact]
    public void Operations_that_share_an_instant_count_as_concurrent() =>
        AssertLinearizable(new HistoryBuilder()
            .Write(1, "1", 0, 10)
            .Read(2, null, 10, 20));

    [Fact]
    public void A_stale_read_is_not_linearizable_and_its_window_starts_where_the_value_was_known()
    {
        var history = new HistoryBuilder("r7")
            .Write(1, "2114", -200, -150)
            .Cas(2, "2114", "2122", true, -100, -50)
            .Read(1, "2114", 0, 1896.7, "default")
            .Cas(2, "2122", "2129", true, 18.0, 26.8)
            .Read(3, "2129", 20.9, 29.3, "consistent")
            .Write(4, "2131", 92.9, 1914.1)
            .Read(2, "2131", 2000, 2010);
        var window = AssertNotLinearizable(history, 2, 3, 4, 5);
        Assert.Equal(["the value 2122"], window.StatesBefore);
        Assert.Equal(2, window.Blocking?.Id);
        Assert.Empty(window.PendingBefore);
        Assert.Equal(
            """
            key r7: not linearizable; before this window every earlier operation had completed, leaving the value 2122
                read (default)      → 2114   [0.0000, 1.8967]  p1  ← cannot be placed
                cas 2122 → 2129     ok       [0.0180, 0.0268]  p2
                read (consistent)   → 2129   [0.0209, 0.0293]  p3
                write 2131          ok       [0.0929, 1.9141]  p4
            """,
            window.Describe());
    }

    [Fact]
    public void A_lost_acknowledged_write_is_not_linearizable() =>
        AssertNotLinearizable(new HistoryBuilder()
            .Write(1, "1", 0, 10)
            .Write(2, "2", 20, 30)
            .Read(3, "1", 40, 50)
            .Read(1, "2", 60, 70), 2);

    [Fact]
    public void A_read_that_misses_an_acknowledged_write_nothing_overwrote_is_not_linearizable() =>
        AssertNotLinearizable(new HistoryBuilder()
            .Write(1, "1", 0, 10)
            .Read(2, null, 20, 30), 1);

    [Fact]
    public void A_read_of_a_value_never_written_is_not_linearizable() =>
        AssertNotLinearizable(new HistoryBuilder()
            .Write(1, "1", 0, 10)
            .Write(2, "2", 5, 15)
            .Read(3, "7", 0, 40), 2);

    [Fact]
    public void A_cas_that_succeeded_when_its_expected_value_was_not_current_is_not_linearizable() =>
        AssertNotLinearizable(new HistoryBuilder()
            .Write(1, "1", 0, 10)
            .Cas(2, "2", "3", true, 20, 30), 1);

    [Fact]
    public void A_cas_that_failed_although_its_expected_value_was_current_throughout_is_not_linearizable() =>
        AssertNotLinearizable(new HistoryBuilder()
            .Write(1, "1", 0, 10)
            .Cas(2, "1", "3", false, 20, 30)
            .Read(1, "1", 40, 50), 1);

    [Fact]
    public void A_cas_only_if_absent_fails_once_the_key_exists()
    {
        AssertLinearizable(new HistoryBuilder()
            .Cas(1, null, "1", true, 0, 10)
            .Cas(2, null, "2", false, 20, 30));
        AssertNotLinearizable(new HistoryBuilder()
            .Write(1, "1", 0, 10)
            .Cas(2, null, "2", true, 20, 30), 1);
    }

    [Fact]
    public void Failed_operations_and_reads_of_unknown_outcome_are_dropped() =>
        AssertLinearizable(new HistoryBuilder()
            .Write(1, "9", 0, 10, OpStatus.Failed)
            .Read(2, "garbage", 5, 0, status: OpStatus.Unknown)
            .Read(3, null, 20, 30));

    [Fact]
    public void Keys_are_checked_independently_and_reported_in_order()
    {
        var result = Check(new HistoryBuilder("b")
            .Write(1, "1", 0, 10)
            .On("a")
            .Read(2, "1", 20, 30)
            .On("c")
            .Write(1, "1", 0, 10)
            .Read(2, "1", 20, 30));
        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
        Assert.Equal(["a", "b", "c"], result.Keys.Select(k => k.Key));
        Assert.Equal([Verdict.NotLinearizable, Verdict.Linearizable, Verdict.Linearizable], result.Keys.Select(k => k.Verdict));
    }

    [Fact]
    public void An_unknown_write_that_a_later_read_sees_must_have_taken_effect() =>
        AssertLinearizable(new HistoryBuilder()
            .Write(1, "1", 0, 10)
            .UnknownWrite(2, "2", 20)
            .Read(3, "1", 25, 28)
            .Read(3, "2", 30, 40)
            .Read(1, "2", 5000, 5001));

    [Fact]
    public void An_unknown_write_read_before_it_was_called_is_not_linearizable() =>
        AssertNotLinearizable(new HistoryBuilder()
            .Write(1, "1", 0, 10)
            .Read(3, "2", 12, 18)
            .UnknownWrite(2, "2", 20), 1);

    [Fact]
    public void An_unknown_write_never_observed_is_linearizable() =>
        AssertLinearizable(new HistoryBuilder()
            .Write(1, "1", 0, 10)
            .UnknownWrite(2, "2", 20)
            .Read(3, "1", 30, 40)
            .Write(1, "3", 50, 60)
            .Read(3, "3", 70, 80));

    [Fact]
    public void An_unknown_write_takes_effect_once_at_most()
    {
        AssertNotLinearizable(new HistoryBuilder()
            .UnknownWrite(2, "2", 0)
            .Read(3, "2", 10, 20)
            .Write(1, "1", 30, 40)
            .Read(3, "2", 50, 60), 3);
    }

    [Fact]
    public void An_unknown_write_may_explain_a_cas_that_failed()
    {
        AssertLinearizable(new HistoryBuilder()
            .Write(1, "1", 0, 10)
            .UnknownWrite(2, "2", 20)
            .Cas(3, "1", "3", false, 30, 40));
    }

    [Fact]
    public void An_unknown_cas_takes_effect_only_from_its_expected_value()
    {
        AssertLinearizable(new HistoryBuilder()
            .Write(1, "1", 0, 10)
            .Cas(2, "1", "2", false, 20, 0, OpStatus.Unknown)
            .Read(3, "2", 30, 40));
        AssertNotLinearizable(new HistoryBuilder()
            .Write(1, "3", 0, 10)
            .Cas(2, "1", "2", false, 20, 0, OpStatus.Unknown)
            .Read(3, "2", 30, 40), 2);
    }

    [Fact]
    public void An_unknown_cas_chain_can_follow_an_unknown_write() =>
        AssertLinearizable(new HistoryBuilder()
            .Write(1, "1", 0, 10)
            .UnknownWrite(2, "5", 20)
            .Cas(3, "5", "6", true, 30, 0, OpStatus.Unknown)
            .Cas(4, "6", "7", true, 35, 0, OpStatus.Unknown)
            .Read(1, "7", 40, 50));

    [Fact]
    public void Forty_unknown_writes_do_not_blow_up_the_search()
    {
        var good = new HistoryBuilder();
        var bad = new HistoryBuilder();
        foreach (var history in new[] { good, bad })
        {
            for (var i = 0; i < 40; i++)
            {
                history.UnknownWrite(100 + i, $"u{i}", i);
            }

            history.Write(1, "k0", 50, 60);
        }

        // Reads see twenty of the unknown writes, in an order unrelated to their calls, with
        // acknowledged writes in between.
        var order = Enumerable.Range(0, 20).Select(i => (i * 7) % 40).ToList();
        var t = 100.0;
        foreach (var i in order)
        {
            good.Read(2, $"u{i}", t, t + 5);
            good.Write(3, $"k{t}", t + 10, t + 15);
            bad.Read(2, $"u{i}", t, t + 5);
            bad.Write(3, $"k{t}", t + 10, t + 15);
            t += 20;
        }

        AssertLinearizable(good);
        // Seeing the first of them again needs it to take effect twice.
        bad.Read(2, $"u{order[0]}", t, t + 5);
        AssertNotLinearizable(bad, bad.Last.Id);
    }

    [Theory]
    [InlineData(10, true)]
    [InlineData(11, false)]
    public void Unknown_writes_nobody_will_read_again_are_interchangeable_but_each_takes_effect_once(int rounds, bool linearizable)
    {
        // Ten unknown writes of values that a cas (which failed) expected before them, and nothing after.
        var history = new HistoryBuilder();
        for (var i = 0; i < 10; i++)
        {
            history.Cas(1, $"x{i}", "z", false, 2 * i, (2 * i) + 1);
        }

        for (var i = 0; i < 10; i++)
        {
            history.UnknownWrite(100 + i, $"x{i}", 30 + i);
        }

        // Each round's cas fails on the value just written: only one of the unknown writes can explain
        // it, any one of them, but each only once.
        for (var j = 0; j < rounds; j++)
        {
            var t = 100 + (j * 20);
            history.Write(2, $"k{j}", t, t + 5).Cas(3, $"k{j}", "z", false, t + 10, t + 15);
        }

        var result = Check(history);
        Assert.True(result.Verdict == (linearizable ? Verdict.Linearizable : Verdict.NotLinearizable), result.Describe());
        // Were dead values not forgotten, which writes were used would set configurations apart: C(10, j) of them.
        Assert.True(result.Keys[0].MaxConfigurations <= 2, result.Describe());
        if (!linearizable)
        {
            Assert.Equal(history.Last, result.Keys[0].Window!.Blocking);
        }
    }

    [Fact]
    public void A_search_out_of_time_says_unknown_never_linearizable()
    {
        var history = new HistoryBuilder("a").Write(1, "1", 0, 10).Read(2, "1", 20, 30).On("b").Write(1, "1", 0, 10).Build();
        var result = LinearizabilityChecker.Check(history, RegisterModel.Instance, new CheckOptions { StepsPerKey = 0 });
        Assert.Equal(Verdict.Unknown, result.Verdict);
        Assert.All(result.Keys, k => Assert.Equal(Verdict.Unknown, k.Verdict));
        Assert.Contains("ran out of its budget of 0 steps", result.Keys[0].Message);
    }

    [Fact]
    public void Narrowing_out_of_time_reports_the_whole_failing_segment()
    {
        var history = new HistoryBuilder()
            .Write(1, "1", 0, 10)
            .Read(2, "2", 5, 20)
            .Build();
        var result = LinearizabilityChecker.Check(history, RegisterModel.Instance, new CheckOptions { NarrowingStepsPerKey = 0 });
        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
        var window = result.Keys[0].Window!;
        Assert.NotNull(window.Note);
        Assert.Equal([0, 1], window.Operations.Select(o => o.Id));
    }

    [Fact]
    public void Combining_verdicts_puts_a_failure_before_an_unknown()
    {
        Assert.Equal(Verdict.NotLinearizable, CheckResult.Combine([Verdict.Unknown, Verdict.NotLinearizable, Verdict.Linearizable]));
        Assert.Equal(Verdict.Unknown, CheckResult.Combine([Verdict.Linearizable, Verdict.Unknown]));
        Assert.Equal(Verdict.Linearizable, CheckResult.Combine([]));
    }
}
