namespace Cluster.Testing;

/// <summary>Waiting on a cancellation as an event.</summary>
public static class Cancellation
{
    /// <summary>Completes (as cancelled) when the token is cancelled; never otherwise.</summary>
    public static async Task WhenCancelled(this CancellationToken token)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = token.Register(() => cancelled.TrySetCanceled(token));
        await cancelled.Task;
    }
}
