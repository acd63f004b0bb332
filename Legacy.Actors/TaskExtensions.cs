namespace Legacy.Actors;

public static class TaskExtensions
{
    /// <summary>
    /// Tells the task's outcome to <paramref name="recipient"/> when it completes: the result
    /// (or <paramref name="map"/> of it), or a <see cref="Failure"/>. This is how an actor does
    /// asynchronous work without blocking its turn.
    /// </summary>
    public static void PipeTo<T>(this Task<T> task, ActorRef recipient, ActorRef? sender = null, Func<T, object>? map = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(recipient);
        task.ContinueWith(
            t =>
            {
                object outcome = t.IsCompletedSuccessfully
                    ? (map is null ? t.Result! : map(t.Result))
                    : new Failure(t.Exception?.InnerException ?? new TaskCanceledException(t));
                recipient.Tell(outcome, sender);
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }
}
