using System.Globalization;

namespace Cluster.Contracts;

/// <summary>
/// Durations as Consul writes them (Go's <c>time.ParseDuration</c>): a sign, then one or more
/// decimal numbers each with a unit, as in "30s", "1m30s", "1.5h", "500ms", "10us"; "0" alone
/// needs no unit. Precision is the <see cref="TimeSpan"/> tick (100 ns); finer parts are dropped.
/// </summary>
public static class GoDuration
{
    private static readonly (string Unit, decimal Nanoseconds)[] Units =
    [
        ("ns", 1m),
        ("us", 1_000m),
        ("\u00b5s", 1_000m), // micro sign
        ("\u03bcs", 1_000m), // Greek mu
        ("ms", 1_000_000m),
        ("s", 1_000_000_000m),
        ("m", 60_000_000_000m),
        ("h", 3_600_000_000_000m),
    ];

    private const decimal MaxNanoseconds = (decimal)long.MaxValue * 100;

    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var at = 0;
        var negative = false;
        if (text[0] is '-' or '+')
        {
            negative = text[0] == '-';
            at = 1;
        }

        if (text.AsSpan(at) is "0")
        {
            return true;
        }

        if (at == text.Length)
        {
            return false;
        }

        decimal nanoseconds = 0;
        while (at < text.Length)
        {
            var start = at;
            while (at < text.Length && (char.IsAsciiDigit(text[at]) || text[at] == '.'))
            {
                at++;
            }

            var number = text[start..at];
            if (number.Length == 0 || number == "." || number.Count(c => c == '.') > 1 || number.Length > 20
                || !decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            {
                return false;
            }

            var unit = Unit(text, at);
            if (unit is null)
            {
                return false;
            }

            at += unit.Value.Unit.Length;
            // Checked before multiplying: decimal throws where it overflows.
            if (value > (MaxNanoseconds - nanoseconds) / unit.Value.Nanoseconds)
            {
                return false;
            }

            nanoseconds += value * unit.Value.Nanoseconds;
        }

        var ticks = (long)(nanoseconds / 100);
        duration = TimeSpan.FromTicks(negative ? -ticks : ticks);
        return true;
    }

    /// <summary>The unit at <paramref name="at"/>; "ms" is tried before "m" and "s".</summary>
    private static (string Unit, decimal Nanoseconds)? Unit(string text, int at)
    {
        (string Unit, decimal Nanoseconds)? best = null;
        foreach (var unit in Units)
        {
            if (string.CompareOrdinal(text, at, unit.Unit, 0, unit.Unit.Length) == 0 && (best is null || unit.Unit.Length > best.Value.Unit.Length))
            {
                best = unit;
            }
        }

        return best;
    }

    /// <summary>Formats as Go does for the common cases ("10s", "1m0s", "15ms").</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }

        if (value < TimeSpan.FromSeconds(1))
        {
            return value.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms";
        }

        var text = "";
        if (value.TotalHours >= 1)
        {
            text += ((long)value.TotalHours).ToString(CultureInfo.InvariantCulture) + "h";
        }

        if (value.TotalMinutes >= 1)
        {
            text += value.Minutes.ToString(CultureInfo.InvariantCulture) + "m";
        }

        var seconds = value.Seconds + (value.Milliseconds / 1000.0);
        return text + seconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
    }
}
