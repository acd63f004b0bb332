using System.Net;
using Cluster.Grpc.Wire;

namespace Cluster.Grpc.Client;

/// <summary>A request body known up front: one framed message (unary and server-streaming calls).</summary>
internal sealed class FramedMessageContent : HttpContent
{
    private readonly byte[] _frame;

    public FramedMessageContent(byte[] frame)
    {
        _frame = frame;
        Headers.TryAddWithoutValidation("Content-Type", GrpcProtocol.ContentType);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        stream.WriteAsync(_frame).AsTask();

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        stream.WriteAsync(_frame, cancellationToken).AsTask();

    protected override bool TryComputeLength(out long length)
    {
        // gRPC bodies are streams; no content-length, as other gRPC implementations send.
        length = -1;
        return false;
    }
}

/// <summary>
/// A request body written by the caller over time (client-streaming and duplex calls): the
/// handler hands us the request stream, writes go straight to it, completion ends the body.
/// </summary>
internal sealed class PushStreamContent : HttpContent
{
    private readonly TaskCompletionSource<Stream> _stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PushStreamContent()
    {
        Headers.TryAddWithoutValidation("Content-Type", GrpcProtocol.ContentType);
    }

    /// <summary>The request stream, once the transport has sent the request headers.</summary>
    public Task<Stream> StreamAsync => _stream.Task;

    /// <summary>Ends the request body (END_STREAM).</summary>
    public void Complete() => _done.TrySetResult();

    /// <summary>Abandons the body: pending and later writes fail.</summary>
    public void Abort()
    {
        _stream.TrySetCanceled();
        _done.TrySetCanceled();
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        // The transport holds the request headers until the body is written or flushed; flush
        // now so the server sees the call before the first message (a duplex call may read first).
        await stream.FlushAsync(cancellationToken);
        _stream.TrySetResult(stream);
        await _done.Task.WaitAsync(cancellationToken);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
