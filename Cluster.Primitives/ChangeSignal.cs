namespace Cluster.Primitives;

/// <summary>
/// "Something changed": <see cref="Next"/> completes at the next <see cref="Fire"/>, and each
/// fire arms a fresh one. A waiter takes <see cref="Next"/> before it looks at the state it
/// watches, so a change between its look and its wait still wakes it. Continuations run
/// asynchronously: firing never runs a waiter's code on the firing thread (or under its lock).
/// </summary>
public sealed class ChangeSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next change.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    /// <summary>Wakes everyone waiting on <see cref="Next"/> and arms the next signal.</summary>
    public void Fire() =>
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
