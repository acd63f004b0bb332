using System.Globalization;

namespace Cluster.Benchmarks;

/// <summary>What one load run measured: completed operations over wall time, and latency percentiles.</summary>
public sealed record LoadResult(long Operations, TimeSpan Elapsed, double P50Micros, double P99Micros)
{
    public double PerSecond => Operations / Elapsed.TotalSeconds;

    public static LoadResult FromLatencies(long operations, TimeSpan elapsed, List<long> latencyTicks)
    {
        if (latencyTicks.Count == 0)
        {
            return new LoadResult(operations, elapsed, double.NaN, double.NaN);
        }

        latencyTicks.Sort();
        double Percentile(double p) => latencyTicks[(int)Math.Min(latencyTicks.Count - 1, Math.Floor(p * latencyTicks.Count))] * 1_000_000.0 / System.Diagnostics.Stopwatch.Frequency;
        return new LoadResult(operations, elapsed, Percentile(0.50), Percentile(0.99));
    }

    public string Format() => string.Create(
        CultureInfo.InvariantCulture,
        $"{PerSecond,12:N0}/s   p50 {FormatMicros(P50Micros),9}   p99 {FormatMicros(P99Micros),9}");

    public static string FormatMicros(double micros) =>
        double.IsNaN(micros) ? "-" : micros >= 1000 ? string.Create(CultureInfo.InvariantCulture, $"{micros / 1000:F2} ms") : string.Create(CultureInfo.InvariantCulture, $"{micros:F0} us");
}
