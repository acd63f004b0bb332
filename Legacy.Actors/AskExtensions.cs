using Legacy.Actors.Runtime;

namespace Legacy.Actors;

public static class AskExtensions
{
    /// <summary>
    /// Tells <paramref name="message"/> with a temporary sender and returns its first reply.
    /// Fails with <see cref="AskTimeoutException"/> after <paramref name="timeout"/>, with
    /// <see cref="UndeliveredException"/> at once when the message goes to dead letters, and with
    /// the cause of a <see cref="Failure"/> reply.
    /// </summary>
    public static Task<T> Ask<T>(this ActorRef target, object message, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        var promise = new PromiseActorRef<T>(SystemOf(target), target, timeout, cancellationToken);
        target.Tell(message, promise);
        return promise.Task;
    }

    /// <summary>Stops <paramref name="target"/> and completes with true once it has stopped, false on timeout.</summary>
    public static async Task<bool> GracefulStop(this ActorRef target, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(target);
        var system = SystemOf(target);
        var promise = new PromiseActorRef<Terminated>(system, target, timeout, CancellationToken.None);
        target.SendSystem(new Watch(target, promise));
        system.Stop(target);
        try
        {
            await promise.Task;
            return true;
        }
        catch (AskTimeoutException)
        {
            return false;
        }
    }

    private static ActorSystem SystemOf(ActorRef target) => target.Home;
}
