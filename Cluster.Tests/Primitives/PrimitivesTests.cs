using Cluster.Primitives;

namespace Cluster.Tests.Primitives;

public sealed class PrimitivesTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 250)]
    [InlineData(2, 500)]
    [InlineData(3, 1000)]
    [InlineData(6, 8000)]
    [InlineData(7, 10_000)]
    [InlineData(1_000, 10_000)]
    public void Backoff_doubles_from_its_minimum_up_to_its_maximum(int failures, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), new Backoff(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(10)).After(failures));

    [Fact]
    public void Backoff_with_jitter_stays_in_the_upper_half_of_each_step()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        var random = new Random(5);
        for (var failures = 1; failures < 12; failures++)
        {
            var full = backoff.After(failures);
            var drawn = backoff.After(failures, random);
            Assert.InRange(drawn, full / 2, full);
        }
    }

    [Fact]
    public void A_change_signal_wakes_those_waiting_once_and_arms_the_next()
    {
        var signal = new ChangeSignal();
        var first = signal.Next;
        Assert.Same(first, signal.Next);
        Assert.False(first.IsCompleted);

        signal.Fire();
        Assert.True(first.IsCompletedSuccessfully);
        var second = signal.Next;
        Assert.NotSame(first, second);
        Assert.False(second.IsCompleted);
    }
}
