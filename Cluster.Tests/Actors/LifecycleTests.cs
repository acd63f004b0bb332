using Legacy.Actors;
using Cluster.Testing;
using Cluster.Testing.Actors;

namespace Cluster.Tests.Actors;

public sealed class LifecycleTests : ActorTest
{
    [Fact]
    public void Children_stop_before_their_parent_and_watchers_hear_last()
    {
        var events = Kit.CreateProbe();
        var parent = Kit.System.ActorOf(Props.Create(() => new ReportingParent(events.Ref, "p")), "p");
        events.ExpectMsg("start p");
        events.ExpectMsg("start p/c1");
        events.ExpectMsg("start p/c2");
        events.Watch(parent);
        Kit.System.Stop(parent);
        var stops = new[] { events.ExpectMsg<string>(), events.ExpectMsg<string>() };
        Assert.Equal(["stop p/c1", "stop p/c2"], stops.Order());
        events.ExpectMsg("stop p");
        events.ExpectTerminated(parent);
    }

    [Fact]
    public void PoisonPill_stops_after_the_messages_queued_before_it()
    {
        var probe = Kit.CreateProbe();
        var echo = Kit.System.ActorOf(Props.Create(() => new EchoActor()));
        probe.Watch(echo);
        probe.Send(echo, 1);
        probe.Send(echo, 2);
        echo.Tell(PoisonPill.Instance);
        probe.Send(echo, 3);
        probe.ExpectMsg(1);
        probe.ExpectMsg(2);
        probe.ExpectTerminated(echo);
        probe.ExpectNoMsg(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void GracefulStop_completes_once_the_actor_has_stopped()
    {
        var events = Kit.CreateProbe();
        var counter = Kit.System.ActorOf(Props.Create(() => new CounterActor(events.Ref)));
        events.ExpectMsg("prestart");
        Assert.True(Kit.Await(counter.GracefulStop(TimeSpan.FromSeconds(5))));
        events.ExpectMsg("poststop");
    }

    [Fact]
    public void Terminate_stops_every_actor_and_completes()
    {
        var events = Kit.CreateProbe();
        Kit.System.ActorOf(Props.Create(() => new CounterActor(events.Ref)), "a");
        Kit.System.ActorOf(Props.Create(() => new CounterActor(events.Ref)), "b");
        events.ReceiveN(2);
        var terminated = Kit.System.Terminate();
        Kit.RunUntilIdle();
        Assert.True(terminated.IsCompleted);
        events.ExpectMsg("poststop");
        events.ExpectMsg("poststop");
        Assert.Throws<InvalidOperationException>(() => Kit.System.ActorOf(Props.Create(() => new EchoActor())));
    }

    [Fact]
    public void Terminate_completes_when_user_stops_before_the_root_first_runs()
    {
        // Under load the root's first run (its PreStart watches the guardians) can come after /user
        // has already stopped and left the children table. FIFO order here forces exactly that:
        // /user (Create, then Terminate) runs before the root's Create.
        var dispatcher = new DeterministicDispatcher();
        var system = ActorSystem.Create("early", new ActorSystemOptions { Time = new ManualTimeProvider(), Dispatcher = dispatcher });
        var terminated = system.Terminate();
        dispatcher.RunUntilIdle();
        Assert.True(terminated.IsCompleted);
    }

    [Fact]
    public void Names_are_unique_among_live_siblings_and_free_again_after_a_stop()
    {
        var first = Kit.System.ActorOf(Props.Create(() => new EchoActor()), "name");
        Assert.Throws<InvalidActorNameException>(() => Kit.System.ActorOf(Props.Create(() => new EchoActor()), "name"));
        Assert.Throws<InvalidActorNameException>(() => Kit.System.ActorOf(Props.Create(() => new EchoActor()), "$reserved"));
        Assert.Throws<InvalidActorNameException>(() => Kit.System.ActorOf(Props.Create(() => new EchoActor()), "a/b"));
        Assert.Throws<InvalidActorNameException>(() => Kit.System.ActorOf(Props.Create(() => new EchoActor()), ""));
        Kit.Await(first.GracefulStop(TimeSpan.FromSeconds(1)));
        var second = Kit.System.ActorOf(Props.Create(() => new EchoActor()), "name");
        Assert.Equal(first.Path, second.Path);
        Assert.NotEqual(first, second);
        Assert.Equal("cluster://test/user/name", second.Path.ToString());
    }

    [Fact]
    public void Resolve_finds_the_live_incarnation_and_refuses_a_stale_uid()
    {
        var first = Kit.System.ActorOf(Props.Create(() => new EchoActor()), "svc");
        Assert.Same(first, Kit.System.Resolve(first.Path, first.Uid));
        Assert.Same(first, Kit.System.Resolve(ActorPath.Parse("cluster://test/user/svc")));
        Kit.Await(first.GracefulStop(TimeSpan.FromSeconds(1)));
        var second = Kit.System.ActorOf(Props.Create(() => new EchoActor()), "svc");
        Assert.Same(Kit.System.DeadLetters, Kit.System.Resolve(first.Path, first.Uid));
        Assert.Same(second, Kit.System.Resolve(first.Path, second.Uid));
        Assert.Same(Kit.System.DeadLetters, Kit.System.Resolve(ActorPath.Parse("cluster://other/user/svc")));
        Assert.Same(Kit.System.DeadLetters, Kit.System.Resolve(ActorPath.Parse("cluster://test/user/missing")));
    }

    [Fact]
    public void Generated_names_are_unique()
    {
        var names = Enumerable.Range(0, 100).Select(_ => Kit.System.ActorOf(Props.Create(() => new EchoActor())).Path.Name).ToList();
        Assert.Equal(100, names.Distinct().Count());
        Assert.All(names, n => Assert.StartsWith("$", n, StringComparison.Ordinal));
    }

    private sealed class ReportingParent(ActorRef events, string label) : Actor
    {
        protected override void PreStart()
        {
            events.Tell($"start {label}");
            if (!label.Contains('/', StringComparison.Ordinal))
            {
                Context.ActorOf(Props.Create(() => new ReportingParent(events, label + "/c1")), "c1");
                Context.ActorOf(Props.Create(() => new ReportingParent(events, label + "/c2")), "c2");
            }
        }

        protected override void PostStop() => events.Tell($"stop {label}");

        protected override void Receive(object message) => Unhandled(message);
    }
}
