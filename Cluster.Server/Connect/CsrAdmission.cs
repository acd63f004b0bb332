namespace Cluster.Server.Connect;

/// <summary>A CSR the leader will not sign now: the caller retries later (gRPC RESOURCE_EXHAUSTED, HTTP 429).</summary>
public sealed class RateLimitedException(string message) : Exception(message);

/// <summary>
/// Consul's limits on leaf signing: with CSRMaxConcurrent above 0, at most that many signings at
/// once (the rate is then ignored); otherwise a token bucket of CSRMaxPerSecond, holding one
/// second's worth, and 0 means no limit. A refusal never waits: the agent's cache retries with
/// jitter, so a rotation's burst of renewals spreads out instead of queueing on the leader.
/// </summary>
public sealed class CsrAdmission(TimeProvider time)
{
    public const string Refusal = "Rate limit reached, try again later";

    private readonly Lock _lock = new();
    private double _tokens = double.NaN;
    private long _refilledAt;
    private int _inFlight;

    /// <summary>Admits one signing under <paramref name="perSecond"/> / <paramref name="concurrent"/>, or throws <see cref="RateLimitedException"/>; dispose the result when the signing ends.</summary>
    public IDisposable Admit(double perSecond, int concurrent)
    {
        lock (_lock)
        {
            if (concurrent > 0)
            {
                if (_inFlight >= concurrent)
                {
                    throw new RateLimitedException(Refusal);
                }
            }
            else if (perSecond > 0)
            {
                var now = time.GetTimestamp();
                var burst = Math.Max(1, Math.Ceiling(perSecond));
                _tokens = double.IsNaN(_tokens) ? burst : Math.Min(burst, _tokens + (time.GetElapsedTime(_refilledAt, now).TotalSeconds * perSecond));
                _refilledAt = now;
                if (_tokens < 1)
                {
                    throw new RateLimitedException(Refusal);
                }

                _tokens -= 1;
            }

            _inFlight++;
        }

        return new Release(this);
    }

    private sealed class Release(CsrAdmission owner) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                lock (owner._lock)
                {
                    owner._inFlight--;
                }
            }
        }
    }
}
