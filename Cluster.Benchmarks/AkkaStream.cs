using Akka.Actor;

namespace Cluster.Benchmarks;

/// <summary>The remote stream of <see cref="RemoteBenchmark"/>: a two-node cluster over Akka.Remote (DotNetty, our config), MessagePack messages.</summary>
internal static class AkkaStream
{
    public static async Task<double> RunAsync(int pairs, long messagesPerPair, long warmUpPerPair)
    {
        var systems = new[] { AkkaNodes.Create(), AkkaNodes.Create() };
        try
        {
            await AkkaNodes.FormAsync(systems);
            var (a, b) = (systems[0], systems[1]);
            var bAddress = Akka.Cluster.Cluster.Get(b).SelfAddress;
            var senders = new List<IActorRef>();
            for (var i = 0; i < pairs; i++)
            {
                b.ActorOf(Props.Create(() => new Receiver()), $"recv-{i}");

                // Resolved from A, so A holds a remote reference as a real peer would.
                var remote = await a.ActorSelection(new RootActorPath(bAddress) / "user" / $"recv-{i}").ResolveOne(TimeSpan.FromSeconds(10));
                senders.Add(a.ActorOf(Props.Create(() => new Sender(remote)), $"send-{i}"));
            }

            return await StreamRun.TimeAsync(pairs, messagesPerPair, warmUpPerPair, (p, run) => senders[p].Tell(run));
        }
        finally
        {
            await AkkaNodes.TerminateAllAsync(systems);
        }
    }

    private sealed class Receiver : UntypedActor
    {
        private long _received;

        protected override void OnReceive(object message)
        {
            if (message is StreamItem && ++_received % StreamWindow.AckEvery == 0)
            {
                Sender.Tell(new StreamAck(_received), Self);
            }
        }
    }

    private sealed class Sender(IActorRef target) : UntypedActor
    {
        private readonly StreamState _state = new();

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case StreamRun run:
                    _state.Begin(run);
                    break;
                case StreamAck ack:
                    _state.Acked(ack.Received);
                    break;
                default:
                    return;
            }

            var granted = _state.Window!.TakeSendable();
            for (var seq = _state.Window.FirstOf(granted); granted-- > 0; seq++)
            {
                target.Tell(new StreamItem(seq), Self);
            }

            _state.CompleteIfDone();
        }
    }
}
