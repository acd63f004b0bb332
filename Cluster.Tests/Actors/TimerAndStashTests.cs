using Legacy.Actors;
using Legacy.Actors.Supervision;

namespace Cluster.Tests.Actors;

public sealed class TimerAndStashTests : ActorTest
{
    [Fact]
    public void A_single_timer_delivers_once_after_its_delay()
    {
        var probe = Kit.CreateProbe();
        var actor = Kit.System.ActorOf(Props.Create(() => new TimerActor(probe.Ref)));
        actor.Tell(("single", "tick", TimeSpan.FromSeconds(2)));
        probe.Within(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2), () => probe.ExpectMsg("tick"));
        probe.ExpectNoMsg(TimeSpan.FromSeconds(10));
        Assert.Equal(0, Kit.Clock.ActiveTimers);
    }

    [Fact]
    public void A_periodic_timer_delivers_every_interval_until_cancelled()
    {
        var probe = Kit.CreateProbe();
        var actor = Kit.System.ActorOf(Props.Create(() => new TimerActor(probe.Ref)));
        actor.Tell(("periodic", "tick", TimeSpan.FromSeconds(1)));
        for (var i = 0; i < 3; i++)
        {
            probe.Within(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), () => probe.ExpectMsg("tick"));
        }

        actor.Tell("cancel");
        probe.ExpectMsg("cancelled");
        probe.ExpectNoMsg(TimeSpan.FromSeconds(5));
        Assert.Equal(0, Kit.Clock.ActiveTimers);
    }

    [Fact]
    public void A_tick_already_queued_is_not_delivered_after_cancel()
    {
        var probe = Kit.CreateProbe();
        var actor = Kit.System.ActorOf(Props.Create(() => new TimerActor(probe.Ref)));
        actor.Tell(("single", "tick", TimeSpan.FromSeconds(1)));
        Kit.RunUntilIdle();

        // The cancel is queued, then the timer fires behind it before the actor gets a turn:
        // the tick is in the mailbox, yet the cancel must win.
        actor.Tell("cancel");
        Kit.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, Kit.Dispatcher.Pending);
        probe.ExpectMsg("cancelled");
        probe.ExpectNoMsg(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void Restarting_the_same_key_replaces_the_timer()
    {
        var probe = Kit.CreateProbe();
        var actor = Kit.System.ActorOf(Props.Create(() => new TimerActor(probe.Ref)));
        actor.Tell(("single", "first", TimeSpan.FromSeconds(1)));
        actor.Tell(("single", "second", TimeSpan.FromSeconds(3)));
        probe.Within(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3), () => probe.ExpectMsg("second"));
        probe.ExpectNoMsg(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Timers_die_with_their_actor_and_with_its_restart()
    {
        var probe = Kit.CreateProbe();
        var parent = Kit.System.ActorOf(Props.Create(() => new ParentActor()) with
        {
            SupervisorStrategy = SupervisorStrategy.Default with { MinBackoff = TimeSpan.Zero },
        });
        probe.Send(parent, ("t", Props.Create(() => new TimerActor(probe.Ref))));
        var actor = probe.ExpectMsg<ActorRef>();
        actor.Tell(("periodic", "tick", TimeSpan.FromSeconds(1)));
        probe.ExpectMsg("tick");
        actor.Tell("fail");
        probe.ExpectNoMsg(TimeSpan.FromSeconds(5));
        Assert.Equal(0, Kit.Clock.ActiveTimers);

        actor.Tell(("periodic", "tick", TimeSpan.FromSeconds(1)));
        probe.ExpectMsg("tick");
        Kit.System.Stop(actor);
        probe.ExpectNoMsg(TimeSpan.FromSeconds(5));
        Assert.Equal(0, Kit.Clock.ActiveTimers);
    }

    [Fact]
    public void A_periodic_timer_keeps_at_most_one_tick_queued()
    {
        var probe = Kit.CreateProbe();
        var actor = Kit.System.ActorOf(Props.Create(() => new TimerActor(probe.Ref)));
        actor.Tell(("periodic", "tick", TimeSpan.FromSeconds(1)));
        Kit.RunUntilIdle();

        // Ten intervals pass while the actor gets no turn: one tick, not ten.
        for (var i = 0; i < 10; i++)
        {
            Kit.Clock.Advance(TimeSpan.FromSeconds(1));
        }

        Kit.RunUntilIdle();
        probe.ExpectMsg("tick", TimeSpan.Zero);
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(999));
    }

    [Fact]
    public void Stashed_messages_come_back_in_order_ahead_of_newer_ones()
    {
        var probe = Kit.CreateProbe();
        var gate = Kit.System.ActorOf(Props.Create(() => new GateActor()));
        foreach (var i in Enumerable.Range(1, 3))
        {
            probe.Send(gate, i);
        }

        probe.ExpectNoMsg(TimeSpan.FromSeconds(1));
        gate.Tell("open");
        probe.Send(gate, 4);
        Assert.Equal([1, 2, 3, 4], probe.ReceiveN(4));
    }

    [Fact]
    public void Stashing_beyond_capacity_fails_the_actor()
    {
        var probe = Kit.CreateProbe();
        Kit.System.EventStream.Subscribe(probe.Ref, typeof(DeadLetter));
        var parent = Kit.System.ActorOf(Props.Create(() => new ParentActor()) with { SupervisorStrategy = SupervisorStrategy.StoppingStrategy });
        probe.Send(parent, ("gate", Props.Create(() => new GateActor()) with { StashCapacity = 2 }));
        var gate = probe.ExpectMsg<ActorRef>();
        probe.Watch(gate);
        foreach (var i in Enumerable.Range(1, 3))
        {
            gate.Tell(i);
        }

        probe.FishForMessage<Terminated>(t => t.Actor.Equals(gate));
    }

    [Fact]
    public void A_restart_keeps_the_stash_and_a_stop_sends_it_to_dead_letters()
    {
        var probe = Kit.CreateProbe();
        var parent = Kit.System.ActorOf(Props.Create(() => new ParentActor()) with
        {
            SupervisorStrategy = SupervisorStrategy.Default with { MinBackoff = TimeSpan.Zero },
        });
        probe.Send(parent, ("gate", Props.Create(() => new GateActor())));
        var gate = probe.ExpectMsg<ActorRef>();
        probe.Send(gate, 1);
        gate.Tell("fail");
        probe.Send(gate, 2);
        gate.Tell("open");
        Assert.Equal([1, 2], probe.ReceiveN(2));

        var dead = Kit.CreateProbe();
        Kit.System.EventStream.Subscribe(dead.Ref, typeof(DeadLetter));
        probe.Send(parent, ("gate2", Props.Create(() => new GateActor())));
        var second = probe.ExpectMsg<ActorRef>();
        probe.Send(second, 7);
        Kit.RunUntilIdle();
        Kit.System.Stop(second);
        Assert.Equal(7, dead.ExpectMsg<DeadLetter>().Message);
    }

    private sealed class TimerActor(ActorRef report) : Actor
    {
        protected override void Receive(object message)
        {
            switch (message)
            {
                case ("single", string tick, TimeSpan delay):
                    Timers.StartSingleTimer("key", tick, delay);
                    break;
                case ("periodic", string tick, TimeSpan interval):
                    Timers.StartPeriodicTimer("key", tick, interval);
                    break;
                case "cancel":
                    Timers.Cancel("key");
                    report.Tell("cancelled");
                    break;
                case "fail":
                    throw new InvalidOperationException("fail");
                case string tick:
                    report.Tell(tick);
                    break;
            }
        }
    }

    /// <summary>Stashes numbers until "open", then echoes them.</summary>
    private sealed class GateActor : Actor
    {
        protected override void Receive(object message)
        {
            switch (message)
            {
                case "open":
                    Context.Become(Open);
                    UnstashAll();
                    break;
                case "fail":
                    throw new InvalidOperationException("fail");
                case int:
                    Stash();
                    break;
            }
        }

        private void Open(object message)
        {
            if (message is int)
            {
                Reply(message);
            }
        }
    }
}
