using Legacy.Actors;
using Legacy.Actors.Remoting;
using Cluster.Testing;
using Cluster.Testing.Actors;
using Google.Protobuf.WellKnownTypes;

namespace Cluster.Tests.Actors;

/// <summary>Two or three nodes in this process, talking over real gRPC streams on loopback.</summary>
public sealed class RemotingTests : IAsyncLifetime
{
    private readonly List<ActorSystem> _systems = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var system in _systems)
        {
            await system.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private async Task<ActorSystem> NodeAsync(string name = "mesh", RemoteOptions? options = null, TimeProvider? time = null)
    {
        var system = await RemoteTransport.StartAsync(
            name,
            options ?? new RemoteOptions(),
            new ActorSystemOptions { Time = time ?? TimeProvider.System });
        _systems.Add(system);
        return system;
    }

    private static ActorRef RemoteRefTo(ActorSystem from, ActorRef target) => from.Resolve(target.Path, target.Uid);

    /// <summary>An echo on <paramref name="on"/>, watched from <paramref name="from"/>; a round trip proves the watch is in place.</summary>
    private static (ActorRef Echo, ActorRef Remote, TestProbe Probe) WatchedEcho(ActorSystem from, ActorSystem on)
    {
        var echo = on.ActorOf(Props.Create(() => new EchoActor()), "echo");
        var probe = TestProbe.Real(from);
        var remote = RemoteRefTo(from, echo);
        probe.Watch(remote);
        probe.Send(remote, new StringValue { Value = "ping" }); // the watch precedes this on the stream
        probe.ExpectMsg<StringValue>();
        return (echo, remote, probe);
    }

    [Fact]
    public async Task A_message_crosses_nodes_and_the_reply_finds_its_way_back()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        var echo = b.ActorOf(Props.Create(() => new EchoActor()), "echo");
        var probe = TestProbe.Real(a);
        var remoteEcho = a.Resolve(ActorPath.Parse($"{b.Address}/user/echo"));
        Assert.False(remoteEcho.IsLocal);
        Assert.Equal(echo.Path, remoteEcho.Path);

        probe.Send(remoteEcho, new StringValue { Value = "hello" });
        Assert.Equal("hello", probe.ExpectMsg<StringValue>().Value);
        Assert.Equal(echo, probe.LastSender); // the reply carries the echo's incarnation uid
        Assert.False(probe.LastSender!.IsLocal);
    }

    [Fact]
    public async Task Ask_works_across_nodes()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        var echo = b.ActorOf(Props.Create(() => new EchoActor()), "echo");
        var reply = await RemoteRefTo(a, echo).Ask<Int64Value>(new Int64Value { Value = 42 }, TimeSpan.FromSeconds(10));
        Assert.Equal(42, reply.Value);
    }

    [Fact]
    public async Task Order_between_one_sender_and_one_recipient_is_kept()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        var collector = TestProbe.Real(b);
        var sink = b.ActorOf(Props.Create(() => new SequenceChecker(collector.Ref)), "sink");
        var remote = RemoteRefTo(a, sink);
        const int Count = 20_000;
        for (var i = 0; i < Count; i++)
        {
            remote.Tell(new Int64Value { Value = i });
        }

        remote.Tell(new StringValue { Value = "done" });
        Assert.Equal(Count, collector.ExpectMsg<int>(max: TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task Watching_a_remote_actor_reports_its_stop()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        var (echo, remote, probe) = WatchedEcho(a, b);
        b.Stop(echo);
        var terminated = probe.ExpectMsg<Terminated>();
        Assert.Equal(remote, terminated.Actor);
        Assert.True(terminated.ExistenceConfirmed);
        Assert.False(terminated.AddressTerminated);
    }

    [Fact]
    public async Task Watching_a_remote_path_that_does_not_exist_reports_it_unconfirmed()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        var probe = TestProbe.Real(a);
        probe.Watch(a.Resolve(ActorPath.Parse($"{b.Address}/user/nobody")));
        Assert.False(probe.ExpectMsg<Terminated>().ExistenceConfirmed);
    }

    [Fact]
    public async Task A_node_that_leaves_terminates_every_watch_on_it_at_once()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        var (_, remote, probe) = WatchedEcho(a, b);
        await b.Terminate();
        var terminated = probe.ExpectMsg<Terminated>();
        Assert.Equal(remote, terminated.Actor);
    }

    [Fact]
    public async Task A_silent_node_is_declared_lost_after_NodeLostAfter_of_silence()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var options = new RemoteOptions { HeartbeatInterval = TimeSpan.FromSeconds(1), NodeLostAfter = TimeSpan.FromSeconds(10) };
        var a = await NodeAsync(options: options, time: clock);
        var b = await NodeAsync(options: options);
        var lost = TestProbe.Real(a);
        a.EventStream.Subscribe(lost.Ref, typeof(AddressTerminated));
        var (_, _, probe) = WatchedEcho(a, b);

        // Freeze b the hard way: its endpoint and streams vanish without a goodbye.
        await b.Remote!.AbortForTestsAsync();
        clock.Advance(TimeSpan.FromSeconds(9));
        lost.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(b.Address, lost.ExpectMsg<AddressTerminated>().Address);
        var terminated = probe.ExpectMsg<Terminated>();
        Assert.True(terminated.AddressTerminated);
    }

    [Fact]
    public async Task Messages_for_a_node_that_never_answers_go_to_dead_letters_after_NodeLostAfter()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        var a = await NodeAsync(options: new RemoteOptions { NodeLostAfter = TimeSpan.FromSeconds(10) }, time: clock);
        var dead = TestProbe.Real(a);
        a.EventStream.Subscribe(dead.Ref, typeof(DeadLetter));
        var nowhere = a.Resolve(ActorPath.Parse("cluster://mesh@127.0.0.1:1/user/x")); // nothing listens on port 1
        nowhere.Tell(new StringValue { Value = "into the void" });
        dead.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        clock.Advance(TimeSpan.FromSeconds(11));
        var letter = dead.ExpectMsg<DeadLetter>();
        Assert.Equal("into the void", ((StringValue)letter.Message).Value);
        Assert.Contains("unreachable", letter.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Membership_removal_terminates_watches_and_quarantines_the_incarnation()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        var echoA = a.ActorOf(Props.Create(() => new EchoActor()), "echo");
        var echoB = b.ActorOf(Props.Create(() => new EchoActor()), "echo");
        var probeA = TestProbe.Real(a);
        var probeB = TestProbe.Real(b);
        probeA.Watch(RemoteRefTo(a, echoB));
        probeB.Watch(RemoteRefTo(b, echoA));
        probeA.Send(RemoteRefTo(a, echoB), new StringValue { Value = "a" });
        probeA.ExpectMsg<StringValue>();
        probeB.Send(RemoteRefTo(b, echoA), new StringValue { Value = "b" });
        probeB.ExpectMsg<StringValue>();

        a.Remote!.NodeRemoved(b.Address);
        Assert.True(probeA.ExpectMsg<Terminated>().AddressTerminated);

        // b is alive and tries again: a refuses the quarantined incarnation, and b learns it is cut off.
        probeB.Send(RemoteRefTo(b, echoA), new StringValue { Value = "again" });
        Assert.True(probeB.FishForMessage<Terminated>(_ => true).AddressTerminated);
    }

    [Fact]
    public async Task Messages_that_cannot_cross_go_to_dead_letters_with_the_reason()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        var echo = b.ActorOf(Props.Create(() => new EchoActor()), "echo");
        var dead = TestProbe.Real(a);
        a.EventStream.Subscribe(dead.Ref, typeof(DeadLetter));
        var remote = RemoteRefTo(a, echo);
        remote.Tell("a plain string");
        Assert.Contains("not a protobuf message", dead.ExpectMsg<DeadLetter>().Reason, StringComparison.Ordinal);
        remote.Tell(new Cluster.Testing.Echo.EchoRequest { Message = "x" });
        Assert.Contains("not registered", dead.ExpectMsg<DeadLetter>().Reason, StringComparison.Ordinal);
        remote.Tell(new BytesValue { Value = Google.Protobuf.ByteString.CopyFrom(new byte[2 * 1024 * 1024]) });
        Assert.Contains("limit", dead.ExpectMsg<DeadLetter>().Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_for_an_old_incarnation_is_not_delivered_to_the_new_one()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        var first = b.ActorOf(Props.Create(() => new EchoActor()), "echo");
        var stale = RemoteRefTo(a, first);
        await first.GracefulStop(TimeSpan.FromSeconds(5));
        var second = b.ActorOf(Props.Create(() => new EchoActor()), "echo");
        var dead = TestProbe.Real(b);
        b.EventStream.Subscribe(dead.Ref, typeof(DeadLetter));
        var probe = TestProbe.Real(a);
        probe.Send(stale, new StringValue { Value = "for the first" });
        dead.ExpectMsg<DeadLetter>();
        probe.Send(RemoteRefTo(a, second), new StringValue { Value = "for the second" });
        Assert.Equal("for the second", probe.ExpectMsg<StringValue>().Value);
    }

    [Fact]
    public async Task Nodes_that_dial_each_other_at_once_settle_on_one_stream_and_lose_nothing_after()
    {
        var a = await NodeAsync();
        var b = await NodeAsync();
        var probeA = TestProbe.Real(a);
        var probeB = TestProbe.Real(b);
        var echoA = a.ActorOf(Props.Create(() => new EchoActor()), "echo");
        var echoB = b.ActorOf(Props.Create(() => new EchoActor()), "echo");
        for (var round = 0; round < 20; round++)
        {
            var value = new Int64Value { Value = round };
            probeA.Send(RemoteRefTo(a, echoB), value);
            probeB.Send(RemoteRefTo(b, echoA), value);
        }

        // Both nodes dialed at once; the stream that lost the tie-break is drained, not dropped,
        // so every message arrives (the two streams may interleave them while it drains).
        foreach (var probe in new[] { probeA, probeB })
        {
            var values = Enumerable.Range(0, 20).Select(_ => probe.ExpectMsg<Int64Value>().Value).Order();
            Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), values);
        }

        // Once a marker makes the round trip each way, the pair has settled on one stream...
        Settle(probeA, RemoteRefTo(a, echoB));
        Settle(probeB, RemoteRefTo(b, echoA));

        // ...and from then on nothing is lost or reordered, in either direction.
        for (var i = 0; i < 200; i++)
        {
            probeA.Send(RemoteRefTo(a, echoB), new Int32Value { Value = i });
            probeB.Send(RemoteRefTo(b, echoA), new Int32Value { Value = i });
        }

        foreach (var probe in new[] { probeA, probeB })
        {
            Assert.Equal(Enumerable.Range(0, 200), Enumerable.Range(0, 200).Select(_ => probe.FishForMessage<Int32Value>(_ => true).Value));
        }

        static void Settle(TestProbe probe, ActorRef echo)
        {
            for (var attempt = 0; attempt < 10; attempt++)
            {
                var marker = $"settle-{attempt}";
                probe.Send(echo, new StringValue { Value = marker });
                try
                {
                    probe.FishForMessage<StringValue>(v => v.Value == marker, TimeSpan.FromSeconds(2));
                    return;
                }
                catch (ProbeException)
                {
                    // Not answered in time: try again (bounded).
                }
            }

            Assert.Fail("the two nodes never settled on a stream");
        }
    }

    /// <summary>Counts Int64Value messages, failing on any gap or reordering; reports on "done".</summary>
    private sealed class SequenceChecker(ActorRef report) : Actor
    {
        private long _next;

        protected override void Receive(object message)
        {
            switch (message)
            {
                case Int64Value value when value.Value == _next:
                    _next++;
                    break;
                case Int64Value value:
                    report.Tell($"out of order: {value.Value}, expected {_next}");
                    break;
                case StringValue { Value: "done" }:
                    report.Tell((int)_next);
                    break;
            }
        }
    }
}
