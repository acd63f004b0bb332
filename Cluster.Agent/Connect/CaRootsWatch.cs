using Cluster.Contracts.State;
using Cluster.Primitives;
using Cluster.Server.Nodes;
using Cluster.Server.Query;
using Microsoft.Extensions.Logging;

namespace Cluster.Agent.Connect;

/// <summary>The CA's public state as one agent last saw it, and the index it was read at.</summary>
public sealed record CaRoots(ulong Index, CaState Ca)
{
    public CaRoot Active => Ca.Roots.Single(r => r.Active);
}

/// <summary>
/// The agent's copy of the CA roots, kept by one blocking query at a time (a stale read, as
/// Consul's agent cache makes it, so a rotation reaches every agent without a leader round trip
/// each). Started by its first reader; the leaf cache renews on what it sees here.
/// </summary>
public sealed partial class CaRootsWatch(IServerConnection servers, TimeProvider time, ILogger logger) : IAsyncDisposable
{
    private static readonly Backoff Retry = new(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(10));
    private static readonly TimeSpan HoldFor = TimeSpan.FromMinutes(5);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ChangeSignal _changed = new();
    private readonly Lock _lock = new();
    private Task? _loop;
    private CaRoots? _current;

    /// <summary>The latest roots, null until the first read (or while the servers have no CA yet).</summary>
    public CaRoots? Current
    {
        get
        {
            EnsureStarted();
            return Volatile.Read(ref _current);
        }
    }

    /// <summary>Completes at the next change of <see cref="Current"/>.</summary>
    public Task Changed => _changed.Next;

    /// <summary>The roots once their index passes <paramref name="minIndex"/>, or as they are when <paramref name="wait"/> ends (null if none were ever read).</summary>
    public async Task<CaRoots?> WaitAsync(ulong minIndex, TimeSpan wait, CancellationToken cancellationToken)
    {
        EnsureStarted();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(wait);
        while (true)
        {
            var changed = _changed.Next;
            var current = Volatile.Read(ref _current);
            if (current is not null && current.Index > minIndex)
            {
                return current;
            }

            try
            {
                await changed.WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return Volatile.Read(ref _current);
            }
        }
    }

    private void EnsureStarted()
    {
        lock (_lock)
        {
            _loop ??= Task.Run(() => FollowAsync(_stopping.Token));
        }
    }

    private async Task FollowAsync(CancellationToken cancellationToken)
    {
        ulong index = 0;
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var read = await servers.QueryAsync(new CaQuery(), new ReadOptions(index, HoldFor, Consistency.Stale), cancellationToken).ConfigureAwait(false);
                failures = 0;
                // A server that is behind may answer an older index: take its answer as the new
                // base (a blocking query on it still returns at once) but never go back to older roots.
                index = read.Index;
                if (read.Result is { } ca && (_current is null || read.Index > _current.Index))
                {
                    Volatile.Write(ref _current, new CaRoots(read.Index, ca));
                    _changed.Fire();
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failures++;
                LogReadFailed(logger, e.Message);
                await Task.Delay(Retry.After(failures), time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "reading the CA roots failed: {Reason}")]
    private static partial void LogReadFailed(ILogger logger, string reason);
}
