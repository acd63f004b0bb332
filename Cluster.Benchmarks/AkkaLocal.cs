using System.Diagnostics;
using System.Globalization;
using Akka.Actor;

namespace Cluster.Benchmarks;

/// <summary>
/// Akka.NET's side of the single-node sections (Tell, Ask, memory), the same workloads as
/// <see cref="ChannelCeilings"/>, on a system made as our nodes make it (cluster provider, our
/// HOCON: the default dispatcher and mailbox, as production runs).
/// </summary>
internal static class AkkaLocal
{
    public static async Task<double> PingPongAsync(int pairs, long messagesPerPair)
    {
        var system = AkkaNodes.Create();
        try
        {
            var done = new CountdownEvent(pairs);
            var props = Props.Create(() => new Player(done));
            var players = Enumerable.Range(0, pairs).Select(_ => (A: system.ActorOf(props), B: system.ActorOf(props))).ToList();
            var start = Stopwatch.GetTimestamp();
            foreach (var (a, b) in players)
            {
                a.Tell(new Ball(messagesPerPair), b);
            }

            done.Wait();
            return pairs * messagesPerPair / Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        finally
        {
            await system.Terminate();
        }
    }

    public static async Task<LoadResult> AskAsync(int callers, int asksPerCaller)
    {
        var system = AkkaNodes.Create();
        try
        {
            var echo = system.ActorOf(Props.Create(() => new Echo()));
            var timeout = TimeSpan.FromSeconds(10);
            var ball = new Ball(0);
            return await ActorBenchmark.MeasureAsync(callers, asksPerCaller, () => echo.Ask<object>(ball, timeout));
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>Managed bytes per idle actor, <paramref name="count"/> of them created by one parent.</summary>
    public static async Task<double> BytesPerIdleActorAsync(int count)
    {
        var system = AkkaNodes.Create();
        try
        {
            var parent = system.ActorOf(Props.Create(() => new Spawner()), "parent");
            var before = ActorBenchmark.Settle();
            var created = await parent.Ask<int>(count, TimeSpan.FromMinutes(10));
            var after = ActorBenchmark.Settle();
            GC.KeepAlive(parent);
            return (after - before) / (double)created;
        }
        finally
        {
            await system.Terminate();
        }
    }

    private sealed record Ball(long Remaining);

    /// <summary>Bounces one ball; a pair's count runs down inside the actor, not in shared state (no contention to measure).</summary>
    private sealed class Player(CountdownEvent done) : UntypedActor
    {
        private long _remaining = -1;

        protected override void OnReceive(object message)
        {
            if (_remaining < 0)
            {
                _remaining = ((Ball)message).Remaining / 2;
            }

            if (--_remaining <= 0)
            {
                if (_remaining == 0)
                {
                    done.Signal();
                }

                return;
            }

            Sender.Tell(message, Self);
        }
    }

    private sealed class Echo : UntypedActor
    {
        protected override void OnReceive(object message) => Sender.Tell(message, Self);
    }

    private sealed class Idle : UntypedActor
    {
        protected override void OnReceive(object message)
        {
        }
    }

    private sealed class Spawner : UntypedActor
    {
        // Props built once: Props.Create with an expression compiles it, which would dominate the loop.
        private static readonly Props IdleProps = Props.Create<Idle>();

        protected override void OnReceive(object message)
        {
            if (message is int count)
            {
                for (var i = 0; i < count; i++)
                {
                    Context.ActorOf(IdleProps, "e" + i.ToString(CultureInfo.InvariantCulture));
                }

                Sender.Tell(count);
            }
        }
    }
}
