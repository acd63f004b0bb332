using Cluster.Testing.Linearizability;

namespace Cluster.Tests.Linearizability;

public sealed class MutexCheckerTests
{
    private static void AssertLinearizable(HistoryBuilder history) => CheckerAsserts.AssertLinearizable(MutexModel.Instance, history);

    private static FailureWindow AssertNotLinearizable(HistoryBuilder history, params int[] inWindow) =>
        CheckerAsserts.AssertNotLinearizable(MutexModel.Instance, history, inWindow);

    [Fact]
    public void A_sequential_lock_history_is_linearizable() =>
        AssertLinearizable(new HistoryBuilder("lock")
            .Read(1, null, 0, 1)
            .Acquire(1, "A", true, 2, 3)
            .Acquire(1, "A", true, 4, 5)
            .Read(2, "A", 6, 7)
            .Acquire(2, "B", false, 8, 9)
            .Release(2, "B", false, 10, 11)
            .Release(1, "A", true, 12, 13)
            .Release(1, "A", false, 14, 15)
            .Acquire(2, "B", true, 16, 17)
            .Read(1, "B", 18, 19)
            .Release(2, "B", true, 20, 21));

    [Fact]
    public void Concurrent_acquires_may_go_either_way() =>
        AssertLinearizable(new HistoryBuilder("lock")
            .Acquire(1, "A", true, 0, 30)
            .Acquire(2, "B", false, 10, 20)
            .Read(3, "A", 40, 50));

    [Fact]
    public void Two_holders_at_once_are_not_linearizable()
    {
        var window = AssertNotLinearizable(new HistoryBuilder("lock")
            .Acquire(1, "A", true, 0, 10)
            .Acquire(2, "B", true, 20, 30)
            .Release(1, "A", true, 40, 50), 1);
        Assert.Equal(["the lock held by A"], window.StatesBefore);
        Assert.Equal(1, window.Blocking?.Id);
    }

    [Fact]
    public void A_release_by_a_session_that_did_not_hold_the_lock_is_not_linearizable() =>
        AssertNotLinearizable(new HistoryBuilder("lock")
            .Acquire(1, "A", true, 0, 10)
            .Release(2, "B", true, 20, 30), 1);

    [Fact]
    public void An_acquire_that_failed_on_a_free_lock_is_not_linearizable() =>
        AssertNotLinearizable(new HistoryBuilder("lock")
            .Acquire(1, "A", true, 0, 10)
            .Release(1, "A", true, 20, 30)
            .Acquire(2, "B", false, 40, 50), 2);

    [Fact]
    public void A_read_of_a_holder_that_had_released_is_not_linearizable() =>
        AssertNotLinearizable(new HistoryBuilder("lock")
            .Acquire(1, "A", true, 0, 10)
            .Release(1, "A", true, 20, 30)
            .Read(2, "A", 40, 50), 2);

    [Fact]
    public void An_unknown_acquire_may_explain_a_later_holder_or_nothing()
    {
        AssertLinearizable(new HistoryBuilder("lock")
            .Acquire(1, "A", false, 0, 0, OpStatus.Unknown)
            .Read(2, null, 10, 20)
            .Read(2, "A", 30, 40)
            .Acquire(3, "B", false, 50, 60));
        AssertLinearizable(new HistoryBuilder("lock")
            .Acquire(1, "A", false, 0, 0, OpStatus.Unknown)
            .Acquire(3, "B", true, 50, 60)
            .Read(2, "B", 70, 80));
        AssertNotLinearizable(new HistoryBuilder("lock")
            .Acquire(3, "B", true, 0, 10)
            .Acquire(1, "A", false, 20, 0, OpStatus.Unknown)
            .Read(2, "A", 30, 40), 2);
    }

    [Fact]
    public void An_unknown_release_frees_the_lock_at_most_once() =>
        AssertNotLinearizable(new HistoryBuilder("lock")
            .Acquire(1, "A", true, 0, 10)
            .Release(1, "A", false, 20, 0, OpStatus.Unknown)
            .Read(2, null, 30, 40)
            .Acquire(3, "A", true, 50, 60)
            .Read(2, null, 70, 80), 4);

    [Fact]
    public void Forty_unknown_acquires_do_not_blow_up_the_search()
    {
        var history = new HistoryBuilder("lock");
        for (var i = 0; i < 40; i++)
        {
            history.Acquire(100 + i, $"s{i % 10}", false, i, 0, OpStatus.Unknown);
        }

        var t = 100.0;
        for (var i = 0; i < 10; i++)
        {
            var holder = $"s{(i * 3) % 10}";
            history.Read(1, holder, t, t + 5).Release(2, holder, true, t + 10, t + 15).Read(1, null, t + 20, t + 25);
            t += 30;
        }

        AssertLinearizable(history);
    }
}
