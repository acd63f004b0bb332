using Legacy.Actors;

namespace Cluster.Tests.Actors;

/// <summary>Replies to every message with the message itself.</summary>
internal sealed class EchoActor : Actor
{
    protected override void Receive(object message) => Reply(message);
}

internal sealed record Increment;

internal sealed record GetCount;

internal sealed record Fail(string Reason);

/// <summary>Counts increments; throws on <see cref="Fail"/>; reports lifecycle hooks to <paramref name="events"/>.</summary>
internal sealed class CounterActor(ActorRef? events = null) : Actor
{
    private int _count;

    protected override void PreStart() => events?.Tell("prestart");

    protected override void PostStop() => events?.Tell("poststop");

    protected override void PreRestart(Exception cause)
    {
        events?.Tell($"prerestart:{cause.Message}");
        base.PreRestart(cause);
    }

    protected override void PostRestart(Exception cause)
    {
        events?.Tell($"postrestart:{cause.Message}");
        base.PostRestart(cause);
    }

    protected override void Receive(object message)
    {
        switch (message)
        {
            case Increment:
                _count++;
                break;
            case GetCount:
                Reply(_count);
                break;
            case Fail fail:
                throw new InvalidOperationException(fail.Reason);
            default:
                Unhandled(message);
                break;
        }
    }
}

/// <summary>Creates children on demand and forwards messages to them: a parent with a chosen strategy.</summary>
internal sealed class ParentActor : Actor
{
    protected override void Receive(object message)
    {
        switch (message)
        {
            case (string name, Props props):
                Reply(Context.ActorOf(props, name));
                break;
            case (string name, object inner):
                Context.Child(name)?.Tell(inner, Sender);
                break;
            default:
                Unhandled(message);
                break;
        }
    }
}
