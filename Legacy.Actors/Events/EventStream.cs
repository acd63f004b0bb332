using Legacy.Actors.Runtime;

namespace Legacy.Actors.Events;

/// <summary>
/// System-wide publish/subscribe by message type (dead letters, unhandled messages, later
/// membership changes). Subscriptions are copy-on-write, so publishing takes no lock; stopped
/// local subscribers are dropped as they are found.
/// </summary>
public sealed class EventStream
{
    private readonly Lock _lock = new();
    private (Type Type, ActorRef Subscriber)[] _subscriptions = [];

    public void Subscribe(ActorRef subscriber, Type eventType)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        ArgumentNullException.ThrowIfNull(eventType);
        lock (_lock)
        {
            if (!_subscriptions.Contains((eventType, subscriber)))
            {
                _subscriptions = [.. _subscriptions, (eventType, subscriber)];
            }
        }
    }

    /// <summary>Removes one subscription, or all of the subscriber's when <paramref name="eventType"/> is null.</summary>
    public void Unsubscribe(ActorRef subscriber, Type? eventType = null)
    {
        lock (_lock)
        {
            _subscriptions = [.. _subscriptions.Where(s => !(s.Subscriber.Equals(subscriber) && (eventType is null || s.Type == eventType)))];
        }
    }

    public void Publish(object @event)
    {
        ArgumentNullException.ThrowIfNull(@event);
        foreach (var (type, subscriber) in Volatile.Read(ref _subscriptions))
        {
            if (!type.IsInstanceOfType(@event))
            {
                continue;
            }

            if (subscriber is ActorCell { IsTerminated: true })
            {
                Unsubscribe(subscriber);
                continue;
            }

            subscriber.Tell(@event);
        }
    }
}
