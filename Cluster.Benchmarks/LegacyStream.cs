using Cluster.Testing.Sharding;
using Legacy.Actors;
using Legacy.Actors.Remoting;

namespace Cluster.Benchmarks;

/// <summary>The legacy runtime's side of the remote stream: two nodes over our gRPC remoting, protobuf messages.</summary>
internal static class LegacyStream
{
    public static async Task<double> RunAsync(int pairs, long messagesPerPair, long warmUpPerPair)
    {
        var options = new RemoteOptions { Messages = [EntityCommand.Descriptor, EntityReply.Descriptor] };
        await using var a = await RemoteTransport.StartAsync("bench", options);
        await using var b = await RemoteTransport.StartAsync("bench", options);
        var senders = new List<ActorRef>();
        for (var i = 0; i < pairs; i++)
        {
            var receiver = b.ActorOf(Props.Create(() => new Receiver()), $"recv-{i}");
            var remote = a.Resolve(receiver.Path); // a remote reference: B's address is not A's
            senders.Add(a.ActorOf(Props.Create(() => new Sender(remote)), $"send-{i}"));
        }

        return await StreamRun.TimeAsync(pairs, messagesPerPair, warmUpPerPair, (p, run) => senders[p].Tell(run));
    }

    private sealed class Receiver : Actor
    {
        private long _received;

        protected override void Receive(object message)
        {
            if (message is EntityCommand && ++_received % StreamWindow.AckEvery == 0)
            {
                Sender.Tell(new EntityReply { Seq = _received }, Self);
            }
        }
    }

    private sealed class Sender(ActorRef target) : Actor
    {
        private readonly StreamState _state = new();

        protected override void Receive(object message)
        {
            switch (message)
            {
                case StreamRun run:
                    _state.Begin(run);
                    break;
                case EntityReply ack:
                    _state.Acked(ack.Seq);
                    break;
                default:
                    return;
            }

            var granted = _state.Window!.TakeSendable();
            for (var seq = _state.Window.FirstOf(granted); granted-- > 0; seq++)
            {
                target.Tell(new EntityCommand { Seq = seq }, Self);
            }

            _state.CompleteIfDone();
        }
    }
}
