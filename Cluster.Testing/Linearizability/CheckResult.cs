using System.Globalization;
using System.Text;

namespace Cluster.Testing.Linearizability;

/// <summary>What the checker concluded. <see cref="Unknown"/> is never a pass.</summary>
public enum Verdict
{
    Linearizable,
    NotLinearizable,

    /// <summary>The search ran out of its step budget before it could decide.</summary>
    Unknown,
}

/// <summary>The verdict on one key.</summary>
/// <param name="Key">The key.</param>
/// <param name="Verdict">Its verdict.</param>
/// <param name="Operations">Operations on the key in the history.</param>
/// <param name="Checked">Operations the search placed: failed operations and reads of unknown outcome are dropped.</param>
/// <param name="Segments">Stretches between quiescent cuts searched (all of them unless the verdict came early).</param>
/// <param name="MaxConfigurations">The most configurations (state + pending unknown operations) carried across a cut.</param>
/// <param name="Elapsed">Time spent on this key, the failure window's narrowing included.</param>
/// <param name="Message">Why the verdict is what it is, in a sentence.</param>
/// <param name="Window">For a key that is not linearizable: where it fails.</param>
public sealed record KeyResult(
    string Key,
    Verdict Verdict,
    int Operations,
    int Checked,
    int Segments,
    int MaxConfigurations,
    TimeSpan Elapsed,
    string Message,
    FailureWindow? Window = null)
{
    /// <summary>Search steps the verdict took (the narrowing of a failure window not counted): the checker's work, the same on any machine.</summary>
    public long Steps { get; init; }

    public string Describe()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"key {Key}: {Words(Verdict)} ({Operations} ops, {Checked} checked, {Segments} segments, at most {MaxConfigurations} configurations, {Steps:N0} steps, {Elapsed.TotalSeconds:0.000} s)");
        if (Verdict != Verdict.Linearizable)
        {
            text.Append("; ").Append(Message);
        }

        if (Window is not null)
        {
            text.Append('\n').Append(Window.Describe());
        }

        return text.ToString();
    }

    internal static string Words(Verdict verdict) => verdict switch
    {
        Verdict.Linearizable => "linearizable",
        Verdict.NotLinearizable => "not linearizable",
        _ => "unknown",
    };
}

/// <summary>The checker's answer for a whole history: keys are in ordinal order.</summary>
public sealed record CheckResult(Verdict Verdict, IReadOnlyList<KeyResult> Keys, TimeSpan Elapsed)
{
    /// <summary>Not linearizable if any key is not; otherwise unknown if any key is unknown.</summary>
    public static Verdict Combine(IEnumerable<Verdict> verdicts)
    {
        var all = verdicts.ToList();
        return all.Contains(Verdict.NotLinearizable) ? Verdict.NotLinearizable
            : all.Contains(Verdict.Unknown) ? Verdict.Unknown
            : Verdict.Linearizable;
    }

    public string Describe()
    {
        var text = new StringBuilder();
        var failing = Keys.Count(k => k.Verdict == Verdict.NotLinearizable);
        var unknown = Keys.Count(k => k.Verdict == Verdict.Unknown);
        text.Append(CultureInfo.InvariantCulture,
            $"{KeyResult.Words(Verdict)}: {Keys.Count} keys, {failing} not linearizable, {unknown} unknown, {Elapsed.TotalSeconds:0.000} s");
        foreach (var key in Keys)
        {
            text.Append('\n').Append(key.Describe());
        }

        return text.ToString();
    }
}
