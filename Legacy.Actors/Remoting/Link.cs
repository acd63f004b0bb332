using Legacy.Actors.Remoting.Wire;
using Cluster.Grpc;

namespace Legacy.Actors.Remoting;

/// <summary>
/// One live gRPC stream to a peer, dialed by us (outbound) or by the peer (inbound). Either
/// kind carries traffic both ways; when both nodes dial at once, the stream dialed by the
/// node with the smaller address wins on both sides, and the other is retired: both sides stop
/// writing to it and read it to its end, so nothing already sent on it is lost.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Readers and writers still observe the token after Close; cancelling without disposing is what keeps that safe.")]
internal sealed class Link(IAsyncStreamWriter<Frame> writer, IAsyncStreamReader<Frame> reader, Address dialedBy, IDisposable? call)
{
    private readonly CancellationTokenSource _closed = new();
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private volatile bool _retired;

    public IAsyncStreamReader<Frame> Reader { get; } = reader;

    public Address DialedBy { get; } = dialedBy;

    /// <summary>Open for new frames (not closed, not retired).</summary>
    public bool IsLive => !_retired && !_closed.IsCancellationRequested;

    public CancellationToken Closed => _closed.Token;

    /// <summary>Writes one frame; false if the link was retired meanwhile (the caller uses the winner).</summary>
    public async Task<bool> WriteAsync(Frame frame)
    {
        await _writeGate.WaitAsync(Closed);
        try
        {
            if (_retired)
            {
                return false;
            }

            await writer.WriteAsync(frame, Closed);
            return true;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>
    /// Stops writing and, for a stream we dialed, ends our side of it; the reader carries on to
    /// the end, so what the peer sent before it retired the link too is still delivered.
    /// A link not finished within <paramref name="grace"/> is closed hard.
    /// </summary>
    public async Task RetireAsync(TimeSpan grace)
    {
        _retired = true;
        try
        {
            await _writeGate.WaitAsync(Closed);
            try
            {
                if (writer is IClientStreamWriter<Frame> requests)
                {
                    await requests.CompleteAsync();
                }
            }
            finally
            {
                _writeGate.Release();
            }

            await Task.Delay(grace, Closed);
        }
        catch (Exception exception) when (exception is OperationCanceledException or RpcException or IOException or InvalidOperationException or ObjectDisposedException)
        {
            // Ended (or failed) on its own: nothing more to do.
        }

        Close();
    }

    public void Close()
    {
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }

        call?.Dispose();
    }

    /// <summary>Of two live links to one peer, the one both sides keep.</summary>
    public static Link Preferred(Link current, Link candidate)
    {
        if (current.DialedBy == candidate.DialedBy)
        {
            return candidate; // a re-dial by the same side replaces the old stream
        }

        return string.CompareOrdinal(current.DialedBy.ToString(), candidate.DialedBy.ToString()) < 0 ? current : candidate;
    }
}
