using System.Globalization;
using System.Text;

namespace Cluster.Agent.Checks;

/// <summary>
/// Check output cut to a byte budget (Consul's <c>check_output_max_size</c>, 4 KiB by default)
/// without splitting a UTF-8 sequence, and saying that it was cut.
/// </summary>
public static class BoundedOutput
{
    public const int DefaultMaxSize = 4096;

    /// <summary>The first <paramref name="maxSize"/> bytes of <paramref name="utf8"/> (a response body: its start says most).</summary>
    public static string Head(ReadOnlySpan<byte> utf8, int maxSize)
    {
        if (utf8.Length <= maxSize)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        var cut = maxSize;
        while (cut > 0 && IsContinuation(utf8[cut]))
        {
            cut--; // the sequence straddling the cut goes entirely
        }

        return Encoding.UTF8.GetString(utf8[..cut]) + string.Create(CultureInfo.InvariantCulture, $" ... (truncated to {cut} bytes)");
    }

    /// <summary>
    /// The last bytes of what a script wrote (its errors come last), with Consul's
    /// "Captured N of M bytes" header when some were dropped.
    /// </summary>
    public static string Tail(ReadOnlySpan<byte> kept, long totalWritten)
    {
        if (totalWritten <= kept.Length)
        {
            return Encoding.UTF8.GetString(kept);
        }

        var start = 0;
        while (start < kept.Length && IsContinuation(kept[start]))
        {
            start++;
        }

        var text = Encoding.UTF8.GetString(kept[start..]);
        return string.Create(CultureInfo.InvariantCulture, $"Captured {kept.Length - start} of {totalWritten} bytes\n...\n{text}");
    }

    private static bool IsContinuation(byte b) => (b & 0xC0) == 0x80;
}
