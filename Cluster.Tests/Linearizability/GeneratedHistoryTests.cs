using Cluster.Testing.Linearizability;
using Xunit.Abstractions;

namespace Cluster.Tests.Linearizability;

/// <summary>
/// Histories from seeded simulated clients against a true register or lock must check as
/// linearizable; the same histories with one read made stale must not, and their failure window
/// must hold that read. Reports print the search steps each key took; how long a check takes is
/// measured by <c>scripts/bench-checker</c>, not here.
/// </summary>
public sealed class GeneratedHistoryTests(ITestOutputHelper output)
{
    private static readonly HistorySimulationOptions Short = new()
    {
        Operations = 600,
        Keys = ["a", "b"],
        UnknownRate = 0.1,
        SlowRate = 0.03,
        MaxGapMilliseconds = 10,
    };

    private static readonly HistorySimulationOptions Long = new() { Operations = 20_000, Keys = ["r1", "r2", "r3"] };

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 10)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Simulated_register_histories_are_linearizable_until_a_read_is_made_stale(int seed)
    {
        var history = HistorySimulation.Register(seed, Short);
        AssertLinearizable(history, RegisterModel.Instance);
        var (stale, read) = HistorySimulation.StaleRegisterRead(history, seed);
        AssertCaught(stale, read, RegisterModel.Instance);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Simulated_lock_histories_are_linearizable_until_a_read_is_made_stale(int seed)
    {
        var history = HistorySimulation.Lock(seed, Short);
        AssertLinearizable(history, MutexModel.Instance);
        var (stale, read) = HistorySimulation.StaleLockRead(history, seed);
        AssertCaught(stale, read, MutexModel.Instance);
    }

    [Fact]
    public void A_long_register_history_checks_and_a_stale_read_in_it_is_found()
    {
        var history = HistorySimulation.Register(42, Long);
        Report("register, 20,000 operations on 3 keys", history);
        AssertLinearizable(history, RegisterModel.Instance);
        var (stale, read) = HistorySimulation.StaleRegisterRead(history, 42);
        AssertCaught(stale, read, RegisterModel.Instance);
    }

    [Fact]
    public void A_long_lock_history_checks_and_a_stale_read_in_it_is_found()
    {
        var history = HistorySimulation.Lock(42, Long);
        Report("lock, 20,000 operations on 3 keys", history);
        AssertLinearizable(history, MutexModel.Instance);
        var (stale, read) = HistorySimulation.StaleLockRead(history, 42);
        AssertCaught(stale, read, MutexModel.Instance);
    }

    [Fact]
    public void A_dense_register_history_with_long_segments_checks()
    {
        // No think time: clients overlap almost always, so quiescent cuts are rare.
        var history = HistorySimulation.Register(7, new HistorySimulationOptions { Operations = 5000, Keys = ["d"], MaxGapMilliseconds = 0.5 });
        Report("dense register, 5,000 operations on 1 key", history);
        AssertLinearizable(history, RegisterModel.Instance);
    }

    [Fact]
    public void A_saved_history_checks_the_same_after_loading()
    {
        var (history, _) = HistorySimulation.StaleRegisterRead(HistorySimulation.Register(3, Short), 3);
        var text = new StringWriter();
        history.WriteJsonLines(text);
        var loaded = History.ReadJsonLines(new StringReader(text.ToString()));
        Assert.Equal(history, loaded);
        Assert.Equal(
            LinearizabilityChecker.Check(history, RegisterModel.Instance).Keys.Select(k => (k.Verdict, k.Window?.Describe())),
            LinearizabilityChecker.Check(loaded, RegisterModel.Instance).Keys.Select(k => (k.Verdict, k.Window?.Describe())));
    }

    private void Report(string what, History history) =>
        output.WriteLine($"{what}: {history.CountOf(OpStatus.Unknown)} unknown, {history.CountOf(OpStatus.Failed)} failed, spanning {(history.Max(o => o.Return) - history.Min(o => o.Call)) / 1e9:0.0} s");

    private void AssertLinearizable<TState>(History history, IModel<TState> model)
    {
        var result = LinearizabilityChecker.Check(history, model);
        output.WriteLine(result.Describe());
        Assert.True(result.Verdict == Verdict.Linearizable, result.Describe());
    }

    private void AssertCaught<TState>(History history, Operation read, IModel<TState> model)
    {
        var result = LinearizabilityChecker.Check(history, model);
        output.WriteLine($"with read {read.Id} made stale ({read.Value})");
        output.WriteLine(result.Describe());
        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
        var key = Assert.Single(result.Keys, k => k.Verdict == Verdict.NotLinearizable);
        Assert.Equal(read.Key, key.Key);
        Assert.Null(key.Window!.Note);
        Assert.Contains(read, key.Window.Operations);
    }
}
