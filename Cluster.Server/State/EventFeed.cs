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

    /// <summary>Whether this batch resets the state (a snapshot restore): its readers must re-read everything.</summary>
    public bool IsRestore => Events is [{ Topic: EventFeed.RestoreTopic }];

    /// <summary>Completes with the following batch once it is committed.</summary>
    public Task<EventBatch> Next => _next.Task;

    /// <summary>The following batch if it is committed already.</summary>
    public EventBatch? NextIfReady => _next.Task.IsCompletedSuccessfully ? _next.Task.Result : null;

    internal void Link(EventBatch next) => _next.TrySetResult(next);
}

/// <summary>
/// The state-change stream (the shape of Consul's stream.EventBuffer): a singly linked list of
/// batches that only grows at the head. A subscriber keeps the last batch it has seen and awaits
/// its <see cref="EventBatch.Next"/>; nothing is copied per subscriber. The feed itself keeps the
/// last <see cref="Retained"/> batches, so a subscriber that comes back with an index (another
/// server's, or its own after a pause) can resume from there instead of re-reading everything.
/// </summary>
public sealed class EventFeed(int retained = EventFeed.DefaultRetained)
{
    public const int DefaultRetained = 4096;

    internal const string RestoreTopic = "restore";

    private readonly object _gate = new();
    private EventBatch _latest = new(0, []);
    private EventBatch? _oldest;
    private int _count = 1;

    public EventBatch Latest => Volatile.Read(ref _latest);

    /// <summary>How many of the latest batches the feed keeps for resuming subscribers.</summary>
    public int Retained { get; } = retained > 0 ? retained : throw new ArgumentOutOfRangeException(nameof(retained));

    /// <summary>Whether every batch after <paramref name="index"/> is still kept.</summary>
    public bool Keeps(ulong index)
    {
        lock (_gate)
        {
            return (_oldest ?? _latest).Index <= index;
        }
    }

    /// <summary>
    /// The batch to continue after for a reader that has seen everything up to <paramref name="index"/>:
    /// the last batch at or before it. Null when batches after <paramref name="index"/> are no longer
    /// kept (the reader must start again from a snapshot). An index ahead of the feed answers
    /// <see cref="Latest"/>: the reader waits for the feed to pass it.
    /// </summary>
    public EventBatch? ResumeAfter(ulong index)
    {
        EventBatch oldest;
        lock (_gate)
        {
            oldest = _oldest ?? _latest;
        }

        if (oldest.Index > index)
        {
            return null;
        }

        var at = oldest;
        while (at.NextIfReady is { } next && next.Index <= index)
        {
            at = next;
        }

        return at;
    }

    internal void Publish(ulong index, IReadOnlyList<StateEvent> events)
    {
        var batch = new EventBatch(index, events);
        lock (_gate)
        {
            var previous = _latest;
            _oldest ??= previous;
            Volatile.Write(ref _latest, batch);
            previous.Link(batch); // continuations run asynchronously: nothing runs under the lock
            if (++_count > Retained)
            {
                _oldest = _oldest.NextIfReady!;
                _count--;
            }
        }
    }

    /// <summary>Resets the stream after a snapshot restore: subscribers get one batch with a "restore" event and re-read.</summary>
    internal void PublishRestore(ulong index) => Publish(index, [new StateEvent(RestoreTopic, "", index)]);
}
