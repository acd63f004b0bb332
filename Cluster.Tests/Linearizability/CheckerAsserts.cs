using Cluster.Testing.Linearizability;

namespace Cluster.Tests.Linearizability;

/// <summary>The verdict assertions the register and lock tests share; a failure prints the checker's report.</summary>
internal static class CheckerAsserts
{
    public static void AssertLinearizable<TState>(IModel<TState> model, HistoryBuilder history)
    {
        var result = LinearizabilityChecker.Check(history.Build(), model);
        Assert.True(result.Verdict == Verdict.Linearizable, result.Describe());
    }

    /// <summary>Exactly one key fails, its window was narrowed (no fallback note) and holds the operations <paramref name="inWindow"/>.</summary>
    public static FailureWindow AssertNotLinearizable<TState>(IModel<TState> model, HistoryBuilder history, params int[] inWindow)
    {
        var result = LinearizabilityChecker.Check(history.Build(), model);
        Assert.True(result.Verdict == Verdict.NotLinearizable, result.Describe());
        var window = Assert.Single(result.Keys, k => k.Verdict == Verdict.NotLinearizable).Window;
        Assert.NotNull(window);
        Assert.Null(window.Note);
        foreach (var id in inWindow)
        {
            Assert.Contains(window.Operations, o => o.Id == id);
        }

        return window;
    }
}
