using System.Buffers;
using System.Runtime.CompilerServices;
using Cluster.Grpc.Wire;

namespace Cluster.Grpc.Client;

/// <summary>
/// Reads length-prefixed messages from a response stream through one pooled buffer, so a small
/// message costs one stream read, not two. A payload is valid until the next read. Owns the stream.
/// </summary>
internal sealed class FrameReader(Stream stream) : IDisposable
{
    private const int InitialSize = 4096;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);
    private int _start;
    private int _end;

    /// <summary>A frame, or the clean end of the stream (<see cref="IsEnd"/>).</summary>
    public readonly record struct Frame(bool IsEnd, bool Compressed, ReadOnlyMemory<byte> Payload);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Frame> ReadAsync(int maxMessageSize, CancellationToken cancellationToken)
    {
        if (!await FillAsync(MessageFraming.HeaderSize, cancellationToken))
        {
            if (_end == _start)
            {
                return new Frame(IsEnd: true, false, default);
            }

            throw Truncated();
        }

        var length = MessageFraming.ParseHeader(_buffer.AsSpan(_start, MessageFraming.HeaderSize), maxMessageSize, out var compressed);
        if (!await FillAsync(MessageFraming.HeaderSize + length, cancellationToken))
        {
            throw Truncated();
        }

        var payload = _buffer.AsMemory(_start + MessageFraming.HeaderSize, length);
        _start += MessageFraming.HeaderSize + length;
        return new Frame(IsEnd: false, compressed, payload);
    }

    /// <summary>
    /// Disposes the stream, which ends a pending read. A response stream taken with
    /// ReadAsStreamAsync belongs to us; left undisposed it goes to its finalizer, a measurable
    /// cost at tens of thousands of calls a second. The buffer is not returned here, since a read
    /// may still be using it: see <see cref="ReturnBuffer"/>.
    /// </summary>
    public void Dispose() => stream.Dispose();

    /// <summary>Gives the buffer back to the pool, once; only when no read or parse is using it.</summary>
    public void ReturnBuffer()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Ensures <paramref name="count"/> unread bytes are buffered; false if the stream ends first.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FillAsync(int count, CancellationToken cancellationToken)
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }

        while (_end - _start < count)
        {
            if (_buffer.Length - _start < count)
            {
                // Not enough room after _start: move the unread bytes to a buffer that fits.
                var target = _buffer.Length >= count ? _buffer : ArrayPool<byte>.Shared.Rent(count);
                _buffer.AsSpan(_start, _end - _start).CopyTo(target);
                if (!ReferenceEquals(target, _buffer))
                {
                    ArrayPool<byte>.Shared.Return(_buffer);
                    _buffer = target;
                }

                _end -= _start;
                _start = 0;
            }

            var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0)
            {
                return false;
            }

            _end += read;
        }

        return true;
    }

    private static RpcException Truncated() =>
        new(StatusCode.Internal, "Incomplete message: the response stream ended inside a message.");
}
