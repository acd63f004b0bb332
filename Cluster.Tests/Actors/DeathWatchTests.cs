using Legacy.Actors;

namespace Cluster.Tests.Actors;

public sealed class DeathWatchTests : ActorTest
{
    [Fact]
    public void Terminated_arrives_after_every_message_the_dead_actor_sent_first()
    {
        var probe = Kit.CreateProbe();
        var watcher = Kit.System.ActorOf(Props.Create(() => new Watcher(probe.Ref)));
        var talker = Kit.System.ActorOf(Props.Create(() => new Talker()));
        watcher.Tell(talker);
        probe.ExpectMsg("watching");
        talker.Tell(("burst-then-stop", watcher));
        for (var i = 0; i < 50; i++)
        {
            probe.ExpectMsg(i);
        }

        Assert.Equal(talker, probe.ExpectMsg<Terminated>().Actor);
    }

    [Fact]
    public void Watching_an_actor_that_already_stopped_still_reports_it()
    {
        var echo = Kit.System.ActorOf(Props.Create(() => new EchoActor()));
        Kit.Await(echo.GracefulStop(TimeSpan.FromSeconds(1)));
        var probe = Kit.CreateProbe();
        probe.Watch(echo);
        Assert.True(probe.ExpectTerminated(echo).ExistenceConfirmed);
    }

    [Fact]
    public void Watching_something_that_never_existed_reports_it_unconfirmed()
    {
        var probe = Kit.CreateProbe();
        var ghost = Kit.System.Resolve(ActorPath.Parse("cluster://test/user/ghost"));
        probe.Watch(ghost);
        Assert.False(probe.ExpectMsg<Terminated>().ExistenceConfirmed);
    }

    [Fact]
    public void Unwatch_drops_a_Terminated_already_queued()
    {
        var probe = Kit.CreateProbe();
        var watcher = Kit.System.ActorOf(Props.Create(() => new Watcher(probe.Ref)));
        var echo = Kit.System.ActorOf(Props.Create(() => new EchoActor()));
        watcher.Tell(echo);
        probe.ExpectMsg("watching");

        // The stop and the unwatch race in the watcher's mailbox: it must not see Terminated.
        watcher.Tell(("stop-and-unwatch", echo));
        probe.ExpectMsg("unwatched");
        probe.ExpectNoMsg(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void A_stopping_actor_tells_all_its_watchers_once()
    {
        var echo = Kit.System.ActorOf(Props.Create(() => new EchoActor()));
        var probes = Enumerable.Range(0, 3).Select(_ => Kit.CreateProbe()).ToList();
        foreach (var probe in probes)
        {
            probe.Watch(echo);
            probe.Watch(echo);
        }

        Kit.System.Stop(echo);
        foreach (var probe in probes)
        {
            probe.ExpectTerminated(echo);
            probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        }
    }

    [Fact]
    public void A_full_bounded_mailbox_still_receives_Terminated()
    {
        var probe = Kit.CreateProbe();
        var watcher = Kit.System.ActorOf(Props.Create(() => new Watcher(probe.Ref)) with { Mailbox = Legacy.Actors.Dispatch.MailboxOptions.Bounded(2) });
        var echo = Kit.System.ActorOf(Props.Create(() => new EchoActor()));
        watcher.Tell(echo);
        probe.ExpectMsg("watching");

        // Fill the watcher's mailbox before it gets a turn, then stop what it watches.
        watcher.Tell(1);
        watcher.Tell(2);
        watcher.Tell(3); // dropped: the mailbox holds two
        Kit.System.Stop(echo);
        Assert.Equal([1, 2], probe.ReceiveN(2));
        Assert.Equal(echo, probe.ExpectMsg<Terminated>().Actor);
    }

    private sealed class Watcher(ActorRef report) : Actor
    {
        protected override void Receive(object message)
        {
            switch (message)
            {
                case ActorRef subject:
                    Context.Watch(subject);
                    report.Tell("watching");
                    break;
                case ("stop-and-unwatch", ActorRef subject):
                    // The subject's stop and its notification are processed by the runtime
                    // before we handle our next message; we unwatch from within that message.
                    Context.System.Stop(subject);
                    Self.Tell(("unwatch", subject));
                    break;
                case ("unwatch", ActorRef subject):
                    Context.Unwatch(subject);
                    report.Tell("unwatched");
                    break;
                case Terminated or int:
                    report.Tell(message);
                    break;
            }
        }
    }

    private sealed class Talker : Actor
    {
        protected override void Receive(object message)
        {
            if (message is ("burst-then-stop", ActorRef target))
            {
                for (var i = 0; i < 50; i++)
                {
                    target.Tell(i, Self);
                }

                Context.Stop(Self);
            }
        }
    }
}
