using System.Globalization;
using System.Text;

namespace Cluster.Testing.Linearizability;

/// <summary>
/// The smallest stretch of a key's history found that cannot be linearized from the states that were
/// possible just before it. It starts at a cut: every operation called earlier had returned, except
/// those of unknown outcome (and ones still running), listed in <see cref="PendingBefore"/>, which may
/// still take effect. It ends at the return of <see cref="Blocking"/>: up to just before it the window
/// can be ordered, and it cannot once that operation must have taken effect. Every window reported
/// has been confirmed by a search from exactly the reported states.
/// </summary>
/// <param name="Key">The key.</param>
/// <param name="StatesBefore">Every state possible at the window's start, in words.</param>
/// <param name="Operations">The window's operations in call order.</param>
/// <param name="Blocking">The operation whose return makes the window fail.</param>
/// <param name="PendingBefore">Operations called before the window that were still pending at its start and may take effect in it.</param>
/// <param name="Start">The window's start (the earliest call in it), in the history's nanoseconds.</param>
/// <param name="Note">Set when the window could not be narrowed and is the whole failing segment, saying why.</param>
public sealed record FailureWindow(
    string Key,
    IReadOnlyList<string> StatesBefore,
    IReadOnlyList<Operation> Operations,
    Operation? Blocking,
    IReadOnlyList<Operation> PendingBefore,
    long Start,
    string? Note)
{
    private const int MaxPendingShown = 10;

    public string Describe()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"key {Key}: not linearizable; before this window every earlier operation had completed");
        if (PendingBefore.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" (but {PendingBefore.Count} still pending, below)");
        }

        text.Append(", leaving ").Append(StatesBefore.Count == 1 ? StatesBefore[0] : "one of: " + string.Join("; ", StatesBefore));
        if (Note is not null)
        {
            text.Append("\n    (").Append(Note).Append(')');
        }

        var lines = Operations.Select(Line).ToList();
        // The latest pending operations are the likeliest to matter.
        var pending = PendingBefore.Skip(PendingBefore.Count - Math.Min(PendingBefore.Count, MaxPendingShown)).Select(Line).ToList();
        var actionWidth = lines.Concat(pending).Select(l => l.Action.Length).DefaultIfEmpty(0).Max();
        var resultWidth = lines.Concat(pending).Select(l => l.Result.Length).DefaultIfEmpty(0).Max();
        foreach (var line in lines)
        {
            text.Append('\n').Append(Format(line, actionWidth, resultWidth));
        }

        if (PendingBefore.Count > 0)
        {
            text.Append("\n  pending from before the window, may take effect in it:");
            if (PendingBefore.Count > MaxPendingShown)
            {
                text.Append(CultureInfo.InvariantCulture, $"\n    … {PendingBefore.Count - MaxPendingShown} earlier ones, then");
            }

            foreach (var line in pending)
            {
                text.Append('\n').Append(Format(line, actionWidth, resultWidth));
            }
        }

        return text.ToString();
    }

    private OpLine Line(Operation op)
    {
        var (action, result) = OperationText.Describe(op);
        var ret = op.Status == OpStatus.Unknown ? "∞" : Seconds(op.Return);
        var mark = op == Blocking ? "  ← cannot be placed" : "";
        return new OpLine(action, result, $"[{Seconds(op.Call)}, {ret}]  p{op.Process.ToString(CultureInfo.InvariantCulture)}{mark}");
    }

    private string Seconds(long nanoseconds) => ((nanoseconds - Start) / 1e9).ToString("0.0000", CultureInfo.InvariantCulture);

    private static string Format(OpLine line, int actionWidth, int resultWidth) =>
        $"    {line.Action.PadRight(actionWidth)}   {line.Result.PadRight(resultWidth)}   {line.Times}";

    private sealed record OpLine(string Action, string Result, string Times);
}

/// <summary>Operations in words for reports: what was asked, and what came back.</summary>
public static class OperationText
{
    public static (string Action, string Result) Describe(Operation op)
    {
        ArgumentNullException.ThrowIfNull(op);
        var detail = op.Detail.Length > 0 ? $" ({op.Detail})" : "";
        var action = op.Kind switch
        {
            OpKind.Read => "read",
            OpKind.Write => $"write {Value(op.Value)}",
            OpKind.Cas => $"cas {Value(op.Expected)} → {Value(op.Value)}",
            OpKind.Acquire => $"acquire {Value(op.Value)}",
            _ => $"release {Value(op.Value)}",
        } + detail;
        var result = op.Status switch
        {
            OpStatus.Unknown => "?",
            OpStatus.Failed => "failed",
            _ when op.Kind == OpKind.Read => $"→ {Value(op.Value)}",
            _ => op.Succeeded ? "ok" : "false",
        };
        return (action, result);
    }

    private static string Value(string? value) => value ?? "none";
}
