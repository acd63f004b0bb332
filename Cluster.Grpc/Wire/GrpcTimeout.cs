using System.Globalization;

namespace Cluster.Grpc.Wire;

/// <summary>The grpc-timeout header: at most eight ASCII digits and a unit (H M S m u n).</summary>
internal static class GrpcTimeout
{
    private const long MaxValue = 99_999_999;

    // Unit, nanoseconds per unit; smallest first so the most precise unit that fits is chosen.
    private static readonly (char Unit, decimal Nanos)[] Units =
    [
        ('n', 1m), ('u', 1_000m), ('m', 1_000_000m), ('S', 1_000_000_000m), ('M', 60_000_000_000m), ('H', 3_600_000_000_000m),
    ];

    /// <summary>Formats a positive timeout, rounding up so the peer never sees a shorter deadline.</summary>
    public static string Format(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return "1n";
        }

        var nanos = timeout.Ticks * 100m;
        foreach (var (unit, perUnit) in Units)
        {
            var value = decimal.Ceiling(nanos / perUnit);
            if (value <= MaxValue)
            {
                return ((long)value).ToString(CultureInfo.InvariantCulture) + unit;
            }
        }

        return MaxValue.ToString(CultureInfo.InvariantCulture) + "H";
    }

    public static bool TryParse(string? text, out TimeSpan timeout)
    {
        timeout = default;
        if (text is null || text.Length < 2 || text.Length > 9)
        {
            return false;
        }

        long value = 0;
        for (var i = 0; i < text.Length - 1; i++)
        {
            var c = text[i];
            if (c is < '0' or > '9')
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        decimal perUnit = 0;
        foreach (var (unit, nanos) in Units)
        {
            if (unit == text[^1])
            {
                perUnit = nanos;
            }
        }

        if (perUnit == 0)
        {
            return false;
        }

        var ticks = decimal.Ceiling(value * perUnit / 100m);
        timeout = ticks >= TimeSpan.MaxValue.Ticks ? TimeSpan.MaxValue : TimeSpan.FromTicks((long)ticks);
        return true;
    }
}
