using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.TestKit;
using Cluster.Actors.Sharding;

namespace Cluster.Tests.Actors;

/// <summary>
/// Entities passivate themselves when idle, but never while they hold a live stream. On Akka's
/// TestKit with its virtual-time scheduler: time moves only when the test advances it.
/// </summary>
public sealed class PassivationTests() : Akka.TestKit.Xunit2.TestKit("akka.scheduler.implementation = \"Akka.TestKit.TestScheduler, Akka.TestKit\"")
{
    private static readonly TimeSpan IdleAfter = TimeSpan.FromMinutes(2);

    private TestScheduler Scheduler => (TestScheduler)Sys.Scheduler;

    /// <summary>The shard's place is taken by the test actor: it sees the entity's Passivate request.</summary>
    private TestActorRef<StreamingEntity> StartEntity() => ActorOfAsTestActorRef<StreamingEntity>(Props.Create(() => new StreamingEntity(IdleAfter)), TestActor);

    [Fact]
    public void An_idle_entity_asks_its_shard_to_passivate_it_and_stops_on_the_stop_message()
    {
        var entity = StartEntity();
        Watch(entity);
        Scheduler.Advance(IdleAfter - TimeSpan.FromSeconds(1));
        ExpectNoMsg(TimeSpan.Zero);

        entity.Tell("work"); // a message resets the idle clock
        ExpectMsg("done");
        Scheduler.Advance(IdleAfter - TimeSpan.FromSeconds(1));
        ExpectNoMsg(TimeSpan.Zero);

        Scheduler.Advance(TimeSpan.FromSeconds(2));
        var passivate = ExpectMsg<Passivate>(TimeSpan.Zero);
        Assert.Same(EntityStop.Instance, passivate.StopMessage);

        entity.Tell(passivate.StopMessage); // what the shard does next
        ExpectTerminated(entity);
    }

    [Fact]
    public void An_entity_holding_a_live_stream_is_not_passivated_however_long_it_is_idle()
    {
        var entity = StartEntity();
        entity.Tell("open-stream");
        ExpectMsg("done");
        for (var i = 0; i < 10; i++)
        {
            Scheduler.Advance(IdleAfter);
            ExpectNoMsg(TimeSpan.Zero);
        }

        entity.Tell("close-stream");
        ExpectMsg("done");
        Scheduler.Advance(IdleAfter);
        ExpectMsg<Passivate>(TimeSpan.Zero);
    }

    private sealed class StreamingEntity(TimeSpan idleAfter) : PassivatingEntity(idleAfter)
    {
        private bool _streaming;

        protected override bool HoldsLiveStreams => _streaming;

        protected override void Handle(object message)
        {
            _streaming = message switch
            {
                "open-stream" => true,
                "close-stream" => false,
                _ => _streaming,
            };
            Sender.Tell("done");
        }
    }
}
