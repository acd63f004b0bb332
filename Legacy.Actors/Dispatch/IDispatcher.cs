namespace Legacy.Actors.Dispatch;

/// <summary>
/// Runs actor mailboxes. A mailbox is scheduled at most once at a time, so an actor never
/// runs on two threads at once; the dispatcher only decides where and when it runs.
/// </summary>
public interface IDispatcher
{
    /// <summary>Queues a mailbox run. Must not run it inline on the caller's stack.</summary>
    void Schedule(IThreadPoolWorkItem mailbox);
}
