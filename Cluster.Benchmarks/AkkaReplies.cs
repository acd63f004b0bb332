using System.Threading.Channels;
using Akka.Actor;

namespace Cluster.Benchmarks;

/// <summary>
/// <see cref="AkkaSharding"/>'s reply collection: an actor on the driving node (a real actor, so
/// entities on other nodes can answer it) feeding a channel; what goes unanswered for 300 ms is
/// sent again (delivery is at most once: a message to a home that just left is gone).
/// </summary>
internal sealed class AkkaReplies
{
    private const int MaxRounds = 30;
    private readonly Channel<BenchReply> _replies = Channel.CreateUnbounded<BenchReply>(new UnboundedChannelOptions { SingleReader = true });

    public AkkaReplies(ActorSystem system)
    {
        Ref = system.ActorOf(Props.Create(() => new Collector(_replies.Writer)));
    }

    public IActorRef Ref { get; }

    /// <summary>Sends <paramref name="seq"/> to every entity until each answered; returns each one's incarnation.</summary>
    public async Task<Dictionary<int, long>> ReachAsync(IActorRef target, IEnumerable<int> entities, long seq, Func<int, object> message)
    {
        var incarnations = new Dictionary<int, long>();
        var pending = entities.ToHashSet();
        for (var round = 0; pending.Count > 0; round++)
        {
            if (round == MaxRounds)
            {
                throw new TimeoutException($"{pending.Count} Akka entities never answered");
            }

            foreach (var entity in pending)
            {
                target.Tell(message(entity), Ref);
            }

            await WaitAsync(pending, seq, r => incarnations[r.Entity] = r.Incarnation);
        }

        return incarnations;
    }

    /// <summary>Takes replies until every pending entity answered or 300 ms pass without one.</summary>
    public async Task WaitAsync(HashSet<int> pending, long seq, Action<BenchReply> onReply)
    {
        while (pending.Count > 0)
        {
            using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            try
            {
                await _replies.Reader.WaitToReadAsync(quiet.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            while (_replies.Reader.TryRead(out var reply))
            {
                if (reply.Seq == seq && pending.Remove(reply.Entity))
                {
                    onReply(reply);
                }
            }
        }
    }

    private sealed class Collector(ChannelWriter<BenchReply> replies) : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            if (message is BenchReply reply)
            {
                replies.TryWrite(reply);
            }
        }
    }
}
