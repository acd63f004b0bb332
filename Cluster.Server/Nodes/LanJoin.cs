using Cluster.Gossip.Pool;

namespace Cluster.Server.Nodes;

/// <summary>-retry-join: tries the addresses until one answers, backing off from 1 s up to the retry interval.</summary>
public static class LanJoin
{
    public static async Task<int> RetryAsync(GossipPool pool, IReadOnlyList<string> addresses, TimeSpan retryInterval, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(addresses);
        var wait = TimeSpan.FromSeconds(1);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var joined = await pool.JoinAsync(addresses.Select(a => a.Contains(':', StringComparison.Ordinal) ? a : $"{a}:8301"));
                if (joined > 0)
                {
                    return joined;
                }

                await Task.Delay(wait, time, cancellationToken);
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, retryInterval.Ticks));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        return 0;
    }
}
