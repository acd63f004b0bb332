using System.Diagnostics;
using Cluster.Testing.Linearizability;

namespace Cluster.Testing.Jepsen;

/// <summary>
/// Collects the operations clients complete, with call and return times on the monotonic clock
/// (nanoseconds since the run began), from many threads.
/// </summary>
public sealed class HistoryRecorder
{
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly List<Operation> _operations = [];
    private int _nextId;

    /// <summary>Nanoseconds since the run began.</summary>
    public long Now() => (long)((Stopwatch.GetTimestamp() - _start) * (1e9 / Stopwatch.Frequency));

    public void Add(Func<int, Operation> make)
    {
        ArgumentNullException.ThrowIfNull(make);
        var operation = make(Interlocked.Increment(ref _nextId));
        lock (_operations)
        {
            _operations.Add(operation);
        }
    }

    public IReadOnlyList<Operation> Snapshot()
    {
        lock (_operations)
        {
            return [.. _operations.OrderBy(o => o.Call).ThenBy(o => o.Id)];
        }
    }
}
