namespace Cluster.Server.Rpc;

/// <summary>
/// A call's time limit on the injected clock: its token is cancelled after the timeout or with
/// the caller's token. (Grpc.Net.Client's own deadline reads the wall clock, which a test's
/// manual clock cannot move.) A call cut short this way ends CANCELLED.
/// </summary>
public sealed class RpcDeadline : IDisposable
{
    private readonly CancellationTokenSource _timer;
    private readonly CancellationTokenSource _linked;

    public RpcDeadline(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        _timer = new CancellationTokenSource(timeout, time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(_timer.Token, cancellationToken);
    }

    public CancellationToken Token => _linked.Token;

    public void Dispose()
    {
        _linked.Dispose();
        _timer.Dispose();
    }
}
