using System.Globalization;

namespace Cluster.Benchmarks;

/// <summary>
/// The Connect CA and authorize benchmark (scripts/bench-ca): (1) leaf signatures per second per
/// core, rate limit off, in process and end to end, beside openssl; (2) the time N agents take to
/// renew their leaves after a root rotation under the CSR rate limit; (3) authorize calls per
/// second against N intentions on one agent, by our generator and by wrk. Each part starts its
/// own `cluster agent -dev` on loopback.
/// </summary>
internal static class CaBenchmark
{
    public static async Task RunAsync(string only, TimeSpan duration, int threads, int callers, int agents, double rate, TimeSpan rotationTimeout, int intentions, int connections, bool withWrk)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"# Connect CA benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {duration.TotalSeconds}s measured per cell; each part its own `cluster agent -dev` (Release, log level warn) on loopback"));
        var parts = only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        CaSigning.Result? sign = null;
        CaRotation.Result? rotation = null;
        AuthorizeBenchmark.Result? authorize = null;
        if (parts.Contains("sign"))
        {
            sign = await CaSigning.RunAsync(duration, threads, callers);
            CaSigning.Print(sign);
        }

        if (parts.Contains("rotate"))
        {
            rotation = await CaRotation.RunAsync(agents, rate, rotationTimeout);
            CaRotation.Print(rotation);
        }

        if (parts.Contains("authorize"))
        {
            authorize = await AuthorizeBenchmark.RunAsync(intentions, duration, connections, withWrk);
            AuthorizeBenchmark.Print(authorize);
        }
    }
}
