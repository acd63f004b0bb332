using System.Runtime.CompilerServices;
using Cluster.Contracts.State;
using Cluster.Server.State;

namespace Cluster.Server.Streaming;

/// <summary>
/// Drives one subscription over a store's change feed: a snapshot of the subject (or a resume
/// after the reader's index), then the subject's changes as versions commit. It is pulled by its
/// reader, so a slow reader slows only itself; between pulls it keeps the feed position only
/// weakly, and a reader that falls further behind than the feed keeps is sent
/// <c>new_snapshot_to_follow</c> and a fresh snapshot instead of the history it missed.
/// </summary>
public static class Subscription
{
    /// <summary>Upserts per snapshot message: a large subject travels in several messages, not one huge one.</summary>
    public const int SnapshotChunk = 256;

    public static async IAsyncEnumerable<SubscribeEvent> RunAsync(
        StateStore store,
        SubscriptionTopic topic,
        ulong index,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(topic);
        var feed = store.Events;
        StateVersion? before = null; // the reader's state of the subject, when known here
        var weak = new WeakReference<EventBatch?>(null);
        var resumeFrom = index > 0 ? feed.ResumeAfter(index) : null;
        var snapshotNeeded = resumeFrom is null;
        if (resumeFrom is not null)
        {
            weak.SetTarget(resumeFrom);
        }
        else if (index > 0)
        {
            yield return new SubscribeEvent { Index = index, NewSnapshotToFollow = true };
        }

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            IEnumerable<SubscribeEvent> pending;
            EventBatch? position;
            if (snapshotNeeded)
            {
                // Position first, then the version: the version is at or past the position, and the
                // batches between them are skipped below (the snapshot already holds their effect).
                position = feed.Latest;
                var state = store.Current;
                pending = Chunks(topic.Snapshot(state), state.Index);
                position = await AdvanceToAsync(position, state.FeedIndex, cancellationToken).ConfigureAwait(false);
                before = state;
                index = state.Index;
                weak.SetTarget(position);
                snapshotNeeded = false;
            }
            else
            {
                position = Reacquire(feed, weak, index);
                if (position is null)
                {
                    snapshotNeeded = true;
                    before = null;
                    yield return new SubscribeEvent { Index = index, NewSnapshotToFollow = true };
                    continue;
                }

                // Wait for a commit past the reader, then take everything up to the current version:
                // the batches it includes are published right after it becomes current, so they are coming.
                var events = new List<StateEvent>();
                position = await position.Next.WaitAsync(cancellationToken).ConfigureAwait(false);
                var after = store.Current;
                var restored = false;
                while (true)
                {
                    restored |= position.IsRestore;
                    events.AddRange(position.Events);
                    if (position.Index >= after.FeedIndex)
                    {
                        break;
                    }

                    position = await position.Next.WaitAsync(cancellationToken).ConfigureAwait(false);
                }

                if (restored)
                {
                    snapshotNeeded = true;
                    before = null;
                    yield return new SubscribeEvent { Index = index, NewSnapshotToFollow = true };
                    continue;
                }

                var changes = new SubscribeEvent { Index = after.Index };
                changes.Changes.AddRange(topic.Changes(before, after, events));
                pending = changes.Changes.Count > 0 ? [changes] : [];

                before = after;
                index = after.Index;
                weak.SetTarget(position);
            }

            // While the reader takes these, hold the feed only weakly: a stalled reader keeps no history
            // alive (the iterator's hoisted locals would otherwise hold the position across the yields).
            position = null;
            foreach (var e in pending)
            {
                yield return e;
            }
        }
    }

    /// <summary>A snapshot as messages of up to <see cref="SnapshotChunk"/> upserts, the last marked end_of_snapshot.</summary>
    private static IEnumerable<SubscribeEvent> Chunks(IEnumerable<SubscribeChange> snapshot, ulong index)
    {
        var message = new SubscribeEvent { Index = index };
        foreach (var change in snapshot)
        {
            if (message.Changes.Count == SnapshotChunk)
            {
                yield return message;
                message = new SubscribeEvent { Index = index };
            }

            message.Changes.Add(change);
        }

        message.EndOfSnapshot = true;
        yield return message;
    }

    /// <summary>The feed position again after a pause: still held, or found in what the feed keeps; null if the reader fell too far behind.</summary>
    private static EventBatch? Reacquire(EventFeed feed, WeakReference<EventBatch?> weak, ulong index)
    {
        if (!feed.Keeps(index))
        {
            return null;
        }

        return weak.TryGetTarget(out var held) && held is not null && held.Index <= index ? held : feed.ResumeAfter(index);
    }

    private static async Task<EventBatch> AdvanceToAsync(EventBatch position, ulong index, CancellationToken cancellationToken)
    {
        while (position.Index < index)
        {
            position = await position.Next.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return position;
    }
}
