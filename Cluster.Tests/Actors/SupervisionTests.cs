using Legacy.Actors;
using Legacy.Actors.Supervision;
using Cluster.Testing.Actors;

namespace Cluster.Tests.Actors;

public sealed class SupervisionTests : ActorTest
{
    private ActorRef Child(ActorRef parent, string name, Props props)
    {
        var probe = Kit.CreateProbe();
        probe.Send(parent, (name, props));
        return probe.ExpectMsg<ActorRef>();
    }

    private ActorRef Parent(SupervisorStrategy strategy) =>
        Kit.System.ActorOf(Props.Create(() => new ParentActor()) with { SupervisorStrategy = strategy });

    [Fact]
    public void Restart_replaces_the_instance_so_state_is_reset_and_hooks_run_in_order()
    {
        var events = Kit.CreateProbe();
        var parent = Parent(SupervisorStrategy.Default with { MinBackoff = TimeSpan.Zero });
        var child = Child(parent, "counter", Props.Create(() => new CounterActor(events.Ref)));
        events.ExpectMsg("prestart");
        child.Tell(new Increment());
        child.Tell(new Increment());
        child.Tell(new Fail("boom"));
        events.ExpectMsg("prerestart:boom");
        events.ExpectMsg("poststop");
        events.ExpectMsg("postrestart:boom");
        events.ExpectMsg("prestart");
        Assert.Equal(0, Kit.Await(child.Ask<int>(new GetCount(), TimeSpan.FromSeconds(1))));
    }

    [Fact]
    public void Messages_queued_behind_the_failing_one_survive_the_restart()
    {
        var parent = Parent(SupervisorStrategy.Default with { MinBackoff = TimeSpan.FromSeconds(1) });
        var child = Child(parent, "counter", Props.Create(() => new CounterActor()));
        child.Tell(new Fail("boom"));
        child.Tell(new Increment());
        child.Tell(new Increment());
        var probe = Kit.CreateProbe();
        probe.Send(child, new GetCount());
        probe.Within(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), () => probe.ExpectMsg(2));
    }

    [Fact]
    public void Resume_keeps_the_state()
    {
        var parent = Parent(SupervisorStrategy.Default with { Decider = _ => Directive.Resume });
        var child = Child(parent, "counter", Props.Create(() => new CounterActor()));
        child.Tell(new Increment());
        child.Tell(new Fail("boom"));
        child.Tell(new Increment());
        Assert.Equal(2, Kit.Await(child.Ask<int>(new GetCount(), TimeSpan.FromSeconds(1))));
    }

    [Fact]
    public void Stop_directive_stops_the_child_and_watchers_hear_of_it()
    {
        var parent = Parent(SupervisorStrategy.StoppingStrategy);
        var child = Child(parent, "counter", Props.Create(() => new CounterActor()));
        var probe = Kit.CreateProbe();
        probe.Watch(child);
        child.Tell(new Fail("boom"));
        var terminated = probe.ExpectTerminated(child);
        Assert.True(terminated.ExistenceConfirmed);
    }

    [Fact]
    public void Restarts_back_off_exponentially_and_reset_after_a_quiet_period()
    {
        var strategy = SupervisorStrategy.Default with
        {
            MinBackoff = TimeSpan.FromMilliseconds(100),
            MaxBackoff = TimeSpan.FromMilliseconds(350),
            ResetAfter = TimeSpan.FromSeconds(10),
        };
        var events = Kit.CreateProbe();
        var parent = Parent(strategy);
        var child = Child(parent, "counter", Props.Create(() => new CounterActor(events.Ref)));
        events.ExpectMsg("prestart");

        foreach (var expected in new[] { 100, 200, 350, 350 })
        {
            // The failed instance stays suspended (its mailbox kept) until the backoff ends.
            child.Tell(new Fail("boom"));
            var delay = TimeSpan.FromMilliseconds(expected);
            events.Within(delay, delay, () => events.ExpectMsg("prerestart:boom"));
            events.ExpectMsg("poststop", TimeSpan.Zero);
            events.ExpectMsg("postrestart:boom", TimeSpan.Zero);
            events.ExpectMsg("prestart", TimeSpan.Zero);
        }

        Kit.Advance(TimeSpan.FromSeconds(10));
        child.Tell(new Fail("again"));
        events.Within(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100), () => events.ExpectMsg("prerestart:again"));
    }

    [Fact]
    public void A_child_that_keeps_failing_is_stopped_after_MaxRestarts()
    {
        var parent = Parent(SupervisorStrategy.Default with { MinBackoff = TimeSpan.Zero, MaxRestarts = 2 });
        var child = Child(parent, "counter", Props.Create(() => new CounterActor()));
        var probe = Kit.CreateProbe();
        probe.Watch(child);
        child.Tell(new Fail("1"));
        child.Tell(new Fail("2"));
        probe.ExpectNoMsg(TimeSpan.FromSeconds(1));
        child.Tell(new Fail("3"));
        probe.ExpectTerminated(child);
    }

    [Fact]
    public void Escalate_fails_the_parent_whose_restart_stops_and_recreates_its_children()
    {
        var events = Kit.CreateProbe();
        var grandparent = Parent(SupervisorStrategy.Default with { MinBackoff = TimeSpan.Zero });
        var parent = Child(grandparent, "parent", Props.Create(() => new ParentActor()) with
        {
            SupervisorStrategy = SupervisorStrategy.Default with { Decider = _ => Directive.Escalate },
        });
        var child = Child(parent, "counter", Props.Create(() => new CounterActor(events.Ref)));
        events.ExpectMsg("prestart");
        var probe = Kit.CreateProbe();
        probe.Watch(child);
        child.Tell(new Fail("boom"));
        events.ExpectMsg("poststop");
        probe.ExpectTerminated(child);

        // The parent is a fresh instance with the same path; the name is free again.
        var again = Child(parent, "counter", Props.Create(() => new CounterActor(events.Ref)));
        events.ExpectMsg("prestart");
        Assert.NotEqual(child, again);
        Assert.Equal(child.Path, again.Path);
    }

    [Fact]
    public async Task Escalation_to_a_guardian_stops_the_top_level_actor_not_the_system()
    {
        await using var kit = new ActorTestKit(configure: o => o with
        {
            GuardianStrategy = SupervisorStrategy.Default with { Decider = _ => Directive.Escalate },
        });
        var top = kit.System.ActorOf(Props.Create(() => new CounterActor()), "top");
        var probe = kit.CreateProbe();
        probe.Watch(top);
        top.Tell(new Fail("boom"));
        probe.ExpectTerminated(top);
        Assert.False(kit.System.WhenTerminated.IsCompleted);
        var other = kit.System.ActorOf(Props.Create(() => new EchoActor()));
        probe.Send(other, "alive");
        probe.ExpectMsg("alive");
    }

    [Fact]
    public void A_constructor_that_throws_is_retried_with_backoff()
    {
        var attempts = 0;
        var parent = Parent(SupervisorStrategy.Default with { MinBackoff = TimeSpan.FromMilliseconds(50) });
        var child = Child(parent, "flaky", Props.Create(() => ++attempts < 3 ? throw new IOException("not yet") : new EchoActor()));
        var probe = Kit.CreateProbe();
        probe.Send(child, "hello");
        probe.Within(TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(150), () => probe.ExpectMsg("hello"));
        Assert.Equal(3, attempts);
    }

    [Fact]
    public void A_factory_that_returns_a_shared_instance_is_refused_on_restart()
    {
        Actor? shared = null;
        var parent = Parent(SupervisorStrategy.Default with { MinBackoff = TimeSpan.Zero, MaxRestarts = 3 });
        var child = Child(parent, "shared", Props.Create(() => shared ??= new CounterActor()));
        var probe = Kit.CreateProbe();
        probe.Watch(child);
        probe.Send(child, new GetCount());
        probe.ExpectMsg(0);
        child.Tell(new Fail("boom"));
        probe.ExpectTerminated(child);
    }
}
