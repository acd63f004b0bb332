namespace Legacy.Actors.Dispatch;

/// <summary>One queued user message and who sent it; also the queue's link node.</summary>
internal sealed class Envelope
{
    public object? Message;
    public ActorRef? Sender;
    public Envelope? Next;
}

/// <summary>
/// Multi-producer, single-consumer FIFO (Vyukov's intrusive linked queue). Enqueue is one
/// atomic exchange and one store; an empty queue costs one node, which matters when a node
/// hosts a million idle actors. FIFO per producer gives per-sender ordering.
/// </summary>
internal struct MessageQueue
{
    private Envelope _head;
    private Envelope _tail;

    public MessageQueue()
    {
        _head = _tail = new Envelope();
    }

    public void Enqueue(object message, ActorRef? sender)
    {
        var node = new Envelope { Message = message, Sender = sender };
        var previous = Interlocked.Exchange(ref _tail, node);
        Volatile.Write(ref previous.Next, node);
    }

    /// <summary>True if a message is queued or being linked by a producer right now.</summary>
    public bool HasMessages => Volatile.Read(ref _tail) != _head;

    /// <summary>Consumer only.</summary>
    public bool TryDequeue(out object message, out ActorRef? sender)
    {
        var head = _head;
        var next = Volatile.Read(ref head.Next);
        if (next is null)
        {
            if (Volatile.Read(ref _tail) == head)
            {
                message = null!;
                sender = null;
                return false;
            }

            // A producer swapped the tail but has not linked it yet: it is between two
            // instructions, so wait for it rather than report a queued message as absent.
            var spin = new SpinWait();
            while ((next = Volatile.Read(ref head.Next)) is null)
            {
                spin.SpinOnce();
            }
        }

        _head = next;
        message = next.Message!;
        sender = next.Sender;
        next.Message = null;
        next.Sender = null;
        return true;
    }
}
