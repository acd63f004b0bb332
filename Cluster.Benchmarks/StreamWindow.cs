namespace Cluster.Benchmarks;

/// <summary>
/// The flow control of a remote stream: the receiver acknowledges
/// every <see cref="AckEvery"/> messages, and the sender keeps at most <see cref="InFlight"/>
/// unacknowledged, so the figure is sustained throughput, not how fast a queue fills.
/// </summary>
internal sealed class StreamWindow(long total)
{
    public const int AckEvery = 1_000;
    public const int InFlight = 10_000;

    private long _sent;
    private long _acked;

    public bool Done => _acked >= total;

    /// <summary>Records an acknowledgement (a count since this window began).</summary>
    public void Acked(long received) => _acked = Math.Max(_acked, received);

    /// <summary>How many more may go now; counts them as sent.</summary>
    public long TakeSendable()
    {
        var n = Math.Min(total - _sent, InFlight - (_sent - _acked));
        if (n <= 0)
        {
            return 0;
        }

        _sent += n;
        return n;
    }

    /// <summary>The sequence number of the first message <see cref="TakeSendable"/> just granted.</summary>
    public long FirstOf(long granted) => _sent - granted;
}
