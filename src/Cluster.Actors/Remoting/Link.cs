using Cluster.Actors.Remoting.Wire;
using Cluster.Grpc;

namespace Cluster.Actors.Remoting;

/// <summary>
/// One live gRPC stream to a peer, dialed by us (outbound) or by the peer (inbound). Either
/// kind carries traffic both ways; when both nodes dial at once, the stream dialed by the
/// node with the smaller address wins on both sides.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Readers and writers still observe the token after Close; cancelling without disposing is what keeps that safe.")]
internal sealed class Link(IAsyncStreamWriter<Frame> writer, IAsyncStreamReader<Frame> reader, Address dialedBy, IDisposable? call)
{
    private readonly CancellationTokenSource _closed = new();

    public IAsyncStreamWriter<Frame> Writer { get; } = writer;

    public IAsyncStreamReader<Frame> Reader { get; } = reader;

    public Address DialedBy { get; } = dialedBy;

    public bool IsLive => !_closed.IsCancellationRequested;

    public CancellationToken Closed => _closed.Token;

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
