using Legacy.Actors;
using Cluster.Testing.Actors;

namespace Cluster.Tests.Actors;

/// <summary>The runtime on real pool threads: many senders, one actor at a time, order per sender.</summary>
public sealed class ConcurrencyTests
{
    [Fact]
    public async Task Concurrent_senders_keep_their_order_and_the_actor_never_runs_twice_at_once()
    {
        await using var system = ActorSystem.Create("real");
        var probe = TestProbe.Real(system, TimeSpan.FromSeconds(30));
        var checker = system.ActorOf(Props.Create(() => new OrderChecker(probe.Ref)));
        const int Senders = 8, PerSender = 20_000;
        await Task.WhenAll(Enumerable.Range(0, Senders).Select(s => Task.Run(() =>
        {
            for (var i = 0; i < PerSender; i++)
            {
                checker.Tell((s, i));
            }
        })));
        checker.Tell("done");
        Assert.Equal(Senders * PerSender, probe.ExpectMsg<int>());
    }

    [Fact]
    public async Task Stopping_under_load_loses_nothing_silently()
    {
        await using var system = ActorSystem.Create("real");
        var checker = system.ActorOf(Props.Create(() => new OrderChecker(system.DeadLetters)));
        const int Messages = 50_000;
        var sender = Task.Run(() =>
        {
            for (var i = 0; i < Messages; i++)
            {
                checker.Tell((0, i));
            }
        });
        Assert.True(await checker.GracefulStop(TimeSpan.FromSeconds(30)));
        await sender;

        // Every message was either handled or counted as a dead letter; none vanished.
        var handled = OrderChecker.LastCount;
        Assert.Equal(Messages, handled + system.DeadLetterCount);
    }

    private sealed class OrderChecker(ActorRef report) : Actor
    {
        private readonly Dictionary<int, int> _next = [];
        private int _inside;
        private int _count;

        public static int LastCount { get; private set; }

        protected override void PostStop() => LastCount = _count;

        protected override void Receive(object message)
        {
            if (Interlocked.Increment(ref _inside) != 1)
            {
                throw new InvalidOperationException("two turns at once");
            }

            switch (message)
            {
                case (int sender, int sequence):
                    var expected = _next.GetValueOrDefault(sender);
                    if (sequence != expected)
                    {
                        throw new InvalidOperationException($"sender {sender}: got {sequence}, expected {expected}");
                    }

                    _next[sender] = sequence + 1;
                    _count++;
                    break;
                case "done":
                    report.Tell(_count);
                    break;
            }

            Interlocked.Decrement(ref _inside);
        }
    }
}
