namespace Cluster.Grpc;

/// <summary>
/// Reads the messages of a stream one at a time. <see cref="MoveNext"/> returns false at the
/// clean end of the stream and throws <see cref="RpcException"/> when the call fails.
/// </summary>
public interface IAsyncStreamReader<out T>
{
    T Current { get; }

    /// <remarks>A ValueTask: the hot path of a busy stream completes without allocating. Await it once.</remarks>
    ValueTask<bool> MoveNext(CancellationToken cancellationToken = default);
}

/// <summary>Writes the messages of a stream; one write may be pending at a time.</summary>
public interface IAsyncStreamWriter<in T>
{
    Task WriteAsync(T message, CancellationToken cancellationToken = default);
}

/// <summary>The client's request stream: writes, then <see cref="CompleteAsync"/> half-closes it.</summary>
public interface IClientStreamWriter<in T> : IAsyncStreamWriter<T>
{
    Task CompleteAsync();
}

/// <summary>Convenience over <see cref="IAsyncStreamReader{T}"/>.</summary>
public static class AsyncStreamReaderExtensions
{
    public static async IAsyncEnumerable<T> ReadAllAsync<T>(
        this IAsyncStreamReader<T> reader,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        while (await reader.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            yield return reader.Current;
        }
    }
}
