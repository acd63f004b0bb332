using System.Collections.Concurrent;

namespace Cluster.Raft.Server;

/// <summary>
/// The driver's inbox: many writers, one thread that drains it. The reader blocks without
/// spinning: a spinning wait on every quiet moment burns a core on a small machine and
/// shows up as tail latency everywhere else.
/// </summary>
internal sealed class WorkQueue : IDisposable
{
    private readonly ConcurrentQueue<object> _items = new();
    private readonly ManualResetEventSlim _signal = new(initialState: false, spinCount: 0);
    private volatile bool _completed;

    public bool IsCompleted => _completed;

    public bool TryWrite(object item)
    {
        if (_completed)
        {
            return false;
        }

        _items.Enqueue(item);
        _signal.Set();
        return true;
    }

    public bool TryRead(out object item) => _items.TryDequeue(out item!);

    /// <summary>Blocks until there is something to read (true) or the queue is completed and empty (false).</summary>
    public bool WaitToRead()
    {
        while (true)
        {
            _signal.Reset();
            if (!_items.IsEmpty)
            {
                return true;
            }

            if (_completed)
            {
                return false;
            }

            _signal.Wait();
        }
    }

    public void Complete()
    {
        _completed = true;
        _signal.Set();
    }

    public void Dispose() => _signal.Dispose();
}
