using Cluster.Server.Core;
using Cluster.Server.State;

namespace Cluster.Agent.Http;

/// <summary>
/// Blocking queries (Consul's ?index and ?wait): wait for the consistency barrier, read, and if
/// the answer's index is not past the client's, wait on the watches the read registered (or the
/// deadline) and read again. Each wake-up re-reads only what this query reads.
/// </summary>
public sealed partial class HttpApi
{
    private readonly Random _random;

    /// <summary>Runs <paramref name="read"/> as a (possibly blocking) query and sets X-Consul-Index and the leader headers.</summary>
    public async Task<Read<T>> QueryAsync<T>(ApiRequest request, Func<StateVersion, Read<T>> read)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(read);
        var consistency = request.Consistency;
        var minIndex = request.QueryUInt64("index");
        var wait = minIndex > 0 ? request.Wait : TimeSpan.Zero;
        await Server.ReadBarrierAsync(consistency, request.Aborted);
        var result = read(Store.Current);
        // An index behind the client's (a restored snapshot, another server) answers at once, so the client resets.
        if (minIndex > 0 && result.Index == minIndex && wait > TimeSpan.Zero)
        {
            // Jitter (up to wait/16, as Consul) spreads the re-requests of many watchers whose waits end together.
            var jitter = TimeSpan.FromTicks((long)(wait.Ticks / 16.0 * NextDouble()));
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(request.Aborted);
            deadline.CancelAfter(wait + jitter);
            while (result.Index == minIndex)
            {
                try
                {
                    await Task.WhenAny(result.Watches).WaitAsync(deadline.Token);
                }
                catch (OperationCanceledException) when (!request.Aborted.IsCancellationRequested)
                {
                    break; // the wait ran out: answer with what is current
                }

                if (consistency == Consistency.Consistent)
                {
                    await Server.ReadBarrierAsync(consistency, request.Aborted);
                }

                result = read(Store.Current);
            }
        }

        request.SetIndex(result.Index);
        var (known, contact) = Server.LeaderContact();
        request.SetLeaderHeaders(known, contact);
        return result;
    }

    private double NextDouble()
    {
        lock (_random)
        {
            return _random.NextDouble();
        }
    }
}
