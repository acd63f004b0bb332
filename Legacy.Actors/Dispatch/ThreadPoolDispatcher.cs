namespace Legacy.Actors.Dispatch;

/// <summary>
/// The production dispatcher: mailbox runs go to the .NET thread pool. Runs scheduled from
/// a pool thread go to that thread's local queue (cheap, cache-warm, and still stolen by idle
/// threads), so a ping-pong between two actors does not bounce through the global queue.
/// </summary>
public sealed class ThreadPoolDispatcher : IDispatcher
{
    public static ThreadPoolDispatcher Instance { get; } = new();

    public void Schedule(IThreadPoolWorkItem mailbox) =>
        ThreadPool.UnsafeQueueUserWorkItem(mailbox, preferLocal: true);
}
