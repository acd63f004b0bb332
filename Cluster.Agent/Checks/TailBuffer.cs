namespace Cluster.Agent.Checks;

/// <summary>
/// Keeps the last <c>capacity</c> bytes written to it and counts them all; thread-safe, so a
/// script's stdout and stderr can share one (their order interleaved as it arrived).
/// </summary>
internal sealed class TailBuffer(int capacity)
{
    private readonly Lock _lock = new();
    private readonly byte[] _ring = new byte[capacity];
    private long _written;

    public void Write(ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            _written += data.Length;
            if (capacity == 0)
            {
                return;
            }

            if (data.Length > capacity)
            {
                data = data[^capacity..];
            }

            var at = (int)((_written - data.Length) % capacity);
            var first = Math.Min(data.Length, capacity - at);
            data[..first].CopyTo(_ring.AsSpan(at));
            data[first..].CopyTo(_ring);
        }
    }

    public override string ToString()
    {
        lock (_lock)
        {
            var kept = (int)Math.Min(_written, capacity);
            var start = (int)((_written - kept) % Math.Max(capacity, 1));
            var bytes = new byte[kept];
            var first = Math.Min(kept, capacity - start);
            _ring.AsSpan(start, first).CopyTo(bytes);
            _ring.AsSpan(0, kept - first).CopyTo(bytes.AsSpan(first));
            return BoundedOutput.Tail(bytes, _written);
        }
    }
}
