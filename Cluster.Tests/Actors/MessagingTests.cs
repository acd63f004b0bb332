using System.Collections.Concurrent;
using Legacy.Actors;
using Legacy.Actors.Dispatch;
using Cluster.Testing.Actors;
using Microsoft.Extensions.Logging;

namespace Cluster.Tests.Actors;

public sealed class MessagingTests : ActorTest
{
    [Fact]
    public void Messages_from_one_sender_arrive_in_order_with_the_sender()
    {
        var probe = Kit.CreateProbe();
        var echo = Kit.System.ActorOf(Props.Create(() => new EchoActor()), "echo");
        for (var i = 0; i < 1000; i++)
        {
            probe.Send(echo, i);
        }

        for (var i = 0; i < 1000; i++)
        {
            probe.ExpectMsg(i);
            Assert.Equal(echo, probe.LastSender);
        }
    }

    [Fact]
    public void Ask_returns_the_reply()
    {
        var counter = Kit.System.ActorOf(Props.Create(() => new CounterActor()));
        counter.Tell(new Increment());
        counter.Tell(new Increment());
        Assert.Equal(2, Kit.Await(counter.Ask<int>(new GetCount(), TimeSpan.FromSeconds(1))));
    }

    [Fact]
    public void Ask_times_out_on_virtual_time()
    {
        var silent = Kit.System.ActorOf(Props.Create(() => new CounterActor()));
        var ask = silent.Ask<int>(new Increment(), TimeSpan.FromSeconds(5));
        Kit.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(ask.IsCompleted);
        Kit.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Throws<AskTimeoutException>(() => Kit.Await(ask));
    }

    [Fact]
    public void Ask_of_a_stopped_actor_fails_at_once_instead_of_timing_out()
    {
        var counter = Kit.System.ActorOf(Props.Create(() => new CounterActor()));
        Kit.System.Stop(counter);
        Kit.RunUntilIdle();
        var ask = counter.Ask<int>(new GetCount(), TimeSpan.FromMinutes(1));
        Assert.Throws<UndeliveredException>(() => Kit.Await(ask));
    }

    [Fact]
    public void Ask_fails_with_the_cause_of_a_Failure_reply_and_with_a_clear_error_for_a_wrong_type()
    {
        var echo = Kit.System.ActorOf(Props.Create(() => new EchoActor()));
        var failed = echo.Ask<int>(new Failure(new InvalidDataException("bad")), TimeSpan.FromSeconds(1));
        Assert.Equal("bad", Assert.Throws<InvalidDataException>(() => Kit.Await(failed)).Message);
        var wrong = echo.Ask<int>("text", TimeSpan.FromSeconds(1));
        Assert.Contains("expected Int32 but the reply was String", Assert.Throws<InvalidCastException>(() => Kit.Await(wrong)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ask_can_be_cancelled()
    {
        var silent = Kit.System.ActorOf(Props.Create(() => new CounterActor()));
        using var cts = new CancellationTokenSource();
        var ask = silent.Ask<int>(new Increment(), TimeSpan.FromMinutes(1), cts.Token);
        cts.Cancel();
        Assert.Throws<TaskCanceledException>(() => Kit.Await(ask));
        Assert.Equal(0, Kit.Clock.ActiveTimers);
    }

    [Fact]
    public void Tell_to_a_stopped_actor_becomes_a_counted_and_published_dead_letter()
    {
        var probe = Kit.CreateProbe();
        Kit.System.EventStream.Subscribe(probe.Ref, typeof(DeadLetter));
        var counter = Kit.System.ActorOf(Props.Create(() => new CounterActor()));
        Kit.System.Stop(counter);
        Kit.RunUntilIdle();
        counter.Tell("late", probe.Ref);
        var letter = probe.ExpectMsg<DeadLetter>();
        Assert.Equal("late", letter.Message);
        Assert.Equal(counter, letter.Recipient);
        Assert.Equal(probe.Ref, letter.Sender);
        Assert.Equal(1, Kit.System.DeadLetterCount);
    }

    [Fact]
    public async Task Dead_letters_are_logged_up_to_a_limit_then_only_counted()
    {
        var logs = new ListLoggerProvider();
        await using var kit = new ActorTestKit(configure: o => o with { LoggerFactory = new LoggerFactory([logs]), DeadLetterLogLimit = 3 });
        for (var i = 0; i < 10; i++)
        {
            kit.System.DeadLetters.Tell(i);
        }

        Assert.Equal(10, kit.System.DeadLetterCount);
        Assert.Equal(3, logs.Messages.Count(m => m.StartsWith("Dead letter: Int32", StringComparison.Ordinal)));
        Assert.Single(logs.Messages, m => m.Contains("further ones are only counted", StringComparison.Ordinal));
    }

    [Fact]
    public void Unhandled_messages_are_published()
    {
        var probe = Kit.CreateProbe();
        Kit.System.EventStream.Subscribe(probe.Ref, typeof(UnhandledMessage));
        var counter = Kit.System.ActorOf(Props.Create(() => new CounterActor()));
        counter.Tell(42);
        Assert.Equal(42, probe.ExpectMsg<UnhandledMessage>().Message);
    }

    [Fact]
    public void A_bounded_mailbox_drops_the_newest_by_default_and_the_oldest_when_asked()
    {
        var probe = Kit.CreateProbe();
        Kit.System.EventStream.Subscribe(probe.Ref, typeof(DeadLetter));
        var newest = Kit.System.ActorOf(Props.Create(() => new EchoActor()) with { Mailbox = MailboxOptions.Bounded(3) });
        var oldest = Kit.System.ActorOf(Props.Create(() => new EchoActor()) with { Mailbox = MailboxOptions.Bounded(3, OverflowPolicy.DropOldest) });
        var replies = Kit.CreateProbe();
        foreach (var i in Enumerable.Range(1, 5))
        {
            replies.Send(newest, i);
        }

        Assert.Equal([4, 5], [probe.ExpectMsg<DeadLetter>().Message, probe.ExpectMsg<DeadLetter>().Message]);
        Assert.Equal([1, 2, 3], replies.ReceiveN(3));

        foreach (var i in Enumerable.Range(1, 5))
        {
            replies.Send(oldest, i);
        }

        Kit.RunUntilIdle();
        Assert.Equal([3, 4, 5], replies.ReceiveN(3));
        Assert.Equal([1, 2], [probe.ExpectMsg<DeadLetter>().Message, probe.ExpectMsg<DeadLetter>().Message]);
        replies.ExpectNoMsg(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void Become_switches_behaviour_until_Unbecome()
    {
        var probe = Kit.CreateProbe();
        var actor = Kit.System.ActorOf(Props.Create(() => new TogglingActor()));
        probe.Send(actor, "who");
        probe.ExpectMsg("normal");
        probe.Send(actor, "toggle");
        probe.Send(actor, "who");
        probe.ExpectMsg("other");
        probe.Send(actor, "toggle");
        probe.Send(actor, "who");
        probe.ExpectMsg("normal");
    }

    [Fact]
    public void PipeTo_tells_the_result_or_a_Failure()
    {
        var probe = Kit.CreateProbe();
        Task.FromResult(7).PipeTo(probe.Ref);
        probe.ExpectMsg(7);
        Task.FromException<int>(new IOException("disk")).PipeTo(probe.Ref);
        Assert.IsType<IOException>(probe.ExpectMsg<Failure>().Cause);
    }

    [Fact]
    public void Actors_cannot_be_constructed_with_new()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new EchoActor());
        Assert.Contains("must be created by the actor system", error.Message, StringComparison.Ordinal);
    }

    private sealed class TogglingActor : Actor
    {
        protected override void Receive(object message)
        {
            switch (message)
            {
                case "toggle":
                    Context.Become(Other);
                    break;
                case "who":
                    Reply("normal");
                    break;
            }
        }

        private void Other(object message)
        {
            switch (message)
            {
                case "toggle":
                    Context.Unbecome();
                    break;
                case "who":
                    Reply("other");
                    break;
            }
        }
    }

    /// <summary>Keeps every formatted log line, for asserting on what was logged.</summary>
    private sealed class ListLoggerProvider : ILoggerProvider, ILogger
    {
        private readonly ConcurrentQueue<string> _messages = new();

        public IReadOnlyCollection<string> Messages => _messages;

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _messages.Enqueue(formatter(state, exception));

        public void Dispose()
        {
        }
    }
}
