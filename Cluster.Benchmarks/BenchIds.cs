using System.Globalization;

namespace Cluster.Benchmarks;

/// <summary>Entity numbers as ids ("e123"), the form the benchmark entities use.</summary>
internal static class BenchIds
{
    public static string Of(int entity) => "e" + entity.ToString(CultureInfo.InvariantCulture);

    public static int Parse(string id) => int.Parse(id.AsSpan(1), CultureInfo.InvariantCulture);
}
