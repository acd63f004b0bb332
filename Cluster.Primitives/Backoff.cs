namespace Cluster.Primitives;

/// <summary>
/// Exponential backoff: the delay after the n-th failure in a row, doubling from
/// <see cref="Min"/> up to <see cref="Max"/>. With a random source, each delay is drawn from its
/// upper half, so many retriers that failed together do not come back together.
/// </summary>
public readonly record struct Backoff(TimeSpan Min, TimeSpan Max)
{
    public TimeSpan After(int failures, Random? jitter = null)
    {
        if (failures <= 0)
        {
            return TimeSpan.Zero;
        }

        var ticks = Math.Min(Max.Ticks, Min.Ticks * (1L << Math.Min(failures - 1, 30)));
        if (jitter is not null)
        {
            double draw;
            lock (jitter)
            {
                draw = jitter.NextDouble();
            }

            ticks = (long)(ticks * (0.5 + (draw / 2)));
        }

        return TimeSpan.FromTicks(ticks);
    }
}
