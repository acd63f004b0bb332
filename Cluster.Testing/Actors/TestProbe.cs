using System.Collections.Concurrent;
using Legacy.Actors;

namespace Cluster.Testing.Actors;

/// <summary>
/// A stand-in actor for tests: it records what it is told and asserts on it. Waiting methods
/// take a maximum (virtual time under <see cref="ActorTestKit"/>); inside
/// <see cref="Within(TimeSpan, TimeSpan, Action)"/> the default maximum is what is left of the block.
/// </summary>
public sealed class TestProbe
{
    private readonly ConcurrentQueue<(object Message, ActorRef? Sender)> _received = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly IProbeScheduler _scheduler;
    private readonly TimeSpan _defaultTimeout;
    private readonly FunctionRef _ref;
    private long? _withinDeadline;

    public TestProbe(ActorSystem system, IProbeScheduler scheduler, TimeSpan defaultTimeout, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        _scheduler = scheduler ?? throw new ArgumentNullException(nameof(scheduler));
        _defaultTimeout = defaultTimeout;
        _ref = system.CreateFunctionRef(OnMessage, name);
    }

    /// <summary>A probe for a system on real threads and real time (remoting, processes).</summary>
    public static TestProbe Real(ActorSystem system, TimeSpan? defaultTimeout = null, string? name = null) =>
        new(system, RealTimeScheduler.Instance, defaultTimeout ?? TimeSpan.FromSeconds(10), name);

    public ActorRef Ref => _ref;

    /// <summary>Sender of the last message taken by an Expect method.</summary>
    public ActorRef? LastSender { get; private set; }

    public int QueuedCount => _received.Count;

    /// <summary>Tells <paramref name="target"/> with this probe as the sender.</summary>
    public void Send(ActorRef target, object message)
    {
        ArgumentNullException.ThrowIfNull(target);
        target.Tell(message, _ref);
    }

    /// <summary>Tells the sender of the last message taken.</summary>
    public void Reply(object message) =>
        (LastSender ?? throw new InvalidOperationException("No message taken yet, so nobody to reply to")).Tell(message, _ref);

    public void Watch(ActorRef subject) => _ref.Watch(subject);

    public void Unwatch(ActorRef subject) => _ref.Unwatch(subject);

    /// <summary>Takes the next message, which must be a <typeparamref name="T"/> matching <paramref name="predicate"/>.</summary>
    public T ExpectMsg<T>(Func<T, bool>? predicate = null, TimeSpan? max = null)
    {
        var (message, _) = Take(max, typeof(T).Name);
        if (message is not T typed)
        {
            throw new ProbeException($"Expected {typeof(T).Name} but received {Describe(message)}");
        }

        if (predicate is not null && !predicate(typed))
        {
            throw new ProbeException($"Received {Describe(message)}, which does not match the expectation");
        }

        return typed;
    }

    /// <summary>Takes the next message, which must equal <paramref name="expected"/>.</summary>
    public T ExpectMsg<T>(T expected, TimeSpan? max = null)
        where T : notnull
    {
        var (message, _) = Take(max, Describe(expected));
        if (!Equals(message, expected))
        {
            throw new ProbeException($"Expected {Describe(expected)} but received {Describe(message)}");
        }

        return (T)message;
    }

    public Terminated ExpectTerminated(ActorRef subject, TimeSpan? max = null) =>
        ExpectMsg<Terminated>(t => t.Actor.Equals(subject), max);

    /// <summary>Fails if any message arrives within <paramref name="duration"/>.</summary>
    public void ExpectNoMsg(TimeSpan duration)
    {
        if (_scheduler.RunUntil(() => !_received.IsEmpty, duration, _arrived) && _received.TryPeek(out var next))
        {
            throw new ProbeException($"Expected no message for {duration} but received {Describe(next.Message)}");
        }
    }

    /// <summary>Takes messages until one is a <typeparamref name="T"/> matching <paramref name="predicate"/>; the others are discarded.</summary>
    public T FishForMessage<T>(Func<T, bool> predicate, TimeSpan? max = null)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var deadline = Deadline(max);
        while (true)
        {
            var (message, _) = Take(Remaining(deadline), typeof(T).Name);
            if (message is T typed && predicate(typed))
            {
                return typed;
            }
        }
    }

    /// <summary>Takes exactly <paramref name="count"/> messages.</summary>
    public IReadOnlyList<object> ReceiveN(int count, TimeSpan? max = null)
    {
        var deadline = Deadline(max);
        var messages = new List<object>(count);
        for (var i = 0; i < count; i++)
        {
            messages.Add(Take(Remaining(deadline), $"message {i + 1} of {count}").Message);
        }

        return messages;
    }

    /// <summary>
    /// Runs <paramref name="body"/> and asserts it took between <paramref name="min"/> and
    /// <paramref name="max"/> (virtual time under the test kit, so backoff delays are exact).
    /// </summary>
    public void Within(TimeSpan min, TimeSpan max, Action body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var time = _scheduler.Time;
        var start = time.GetTimestamp();
        var outer = _withinDeadline;
        _withinDeadline = start + (long)(max.TotalSeconds * time.TimestampFrequency);
        try
        {
            body();
        }
        finally
        {
            _withinDeadline = outer;
        }

        var elapsed = time.GetElapsedTime(start);
        if (elapsed < min || elapsed > max)
        {
            throw new ProbeException($"Block took {elapsed.TotalMilliseconds} ms, expected between {min.TotalMilliseconds} and {max.TotalMilliseconds} ms");
        }
    }

    public void Within(TimeSpan max, Action body) => Within(TimeSpan.Zero, max, body);

    private void OnMessage(object message, ActorRef? sender)
    {
        _received.Enqueue((message, sender));
        _arrived.Release();
    }

    private (object Message, ActorRef? Sender) Take(TimeSpan? max, string what)
    {
        var wait = max ?? (_withinDeadline is { } deadline ? Remaining(deadline) : _defaultTimeout);
        if (!_scheduler.RunUntil(() => !_received.IsEmpty, wait, _arrived) || !_received.TryDequeue(out var item))
        {
            throw new ProbeException($"Timed out after {wait.TotalMilliseconds} ms waiting for {what}");
        }

        LastSender = item.Sender;
        return item;
    }

    private long Deadline(TimeSpan? max)
    {
        var time = _scheduler.Time;
        return max is { } m
            ? time.GetTimestamp() + (long)(m.TotalSeconds * time.TimestampFrequency)
            : _withinDeadline ?? time.GetTimestamp() + (long)(_defaultTimeout.TotalSeconds * time.TimestampFrequency);
    }

    private TimeSpan Remaining(long deadline)
    {
        var time = _scheduler.Time;
        var left = TimeSpan.FromSeconds((double)(deadline - time.GetTimestamp()) / time.TimestampFrequency);
        return left < TimeSpan.Zero ? TimeSpan.Zero : left;
    }

    private static string Describe(object? message) => message switch
    {
        null => "null",
        string s => $"\"{s}\"",
        _ => $"{message.GetType().Name} {message}",
    };
}

/// <summary>A probe expectation failed.</summary>
public sealed class ProbeException(string message) : Exception(message);
