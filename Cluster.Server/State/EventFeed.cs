namespace Cluster.Server.State;

/// <summary>A change to one entry: its table (topic), its key in that table and the index of the write.</summary>
public sealed record StateEvent(string Topic, string Key, ulong Index);

/// <summary>The events of one committed write, linked to the next write's batch.</summary>
public sealed class EventBatch
{
    private readonly TaskCompletionSource<EventBatch> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal EventBatch(ulong index, IReadOnlyList<StateEvent> events)
    {
        Index = index;
        Events = events;
    }

    public ulong Index { get; }

    public IReadOnlyList<StateEvent> Events { get; }

    /// <summary>Completes with the following batch once it is committed.</summary>
    public Task<EventBatch> Next => _next.Task;

    internal void Link(EventBatch next) => _next.TrySetResult(next);
}

/// <summary>
/// The state-change stream (the shape of Consul's stream.EventBuffer): a singly linked list of
/// batches that only grows at the head. A subscriber keeps the last batch it has seen and awaits
/// its <see cref="EventBatch.Next"/>; nothing is copied per subscriber, and batches no one holds
/// are collected. A subscriber that falls behind simply walks further, or starts from
/// <see cref="Latest"/> and re-reads the state.
/// </summary>
public sealed class EventFeed
{
    private EventBatch _latest = new(0, []);

    public EventBatch Latest => Volatile.Read(ref _latest);

    internal void Publish(ulong index, IReadOnlyList<StateEvent> events)
    {
        var batch = new EventBatch(index, events);
        var previous = Interlocked.Exchange(ref _latest, batch);
        previous.Link(batch);
    }

    /// <summary>Resets the stream after a snapshot restore: subscribers get one batch with a "restore" event and re-read.</summary>
    internal void PublishRestore(ulong index) => Publish(index, [new StateEvent("restore", "", index)]);
}
