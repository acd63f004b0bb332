using Cluster.Server.Rpc;
using Cluster.Testing;
using Cluster.Testing.Echo;
using Grpc.Core;

namespace Cluster.Tests.Grpc;

/// <summary>
/// Deadlines and cancellation through our host and Grpc.Net.Client: whichever side ends a call,
/// the other side's handler or caller sees it, and nothing is left running. Grpc.Net.Client keeps
/// deadlines on the wall clock; <see cref="RpcDeadline"/> is how our code limits a call on the
/// injected clock.
/// </summary>
public sealed class DeadlineAndCancellationTests
{
    private static readonly EchoRequest WaitForCancel = new() { Message = "wait", WaitForCancel = true };

    [Fact]
    public async Task The_deadline_reaches_the_server_which_cancels_the_handler()
    {
        await using var server = await EchoServer.StartAsync();
        using var channel = server.Channel();
        var (waiting, cancelled) = Observe(server);
        // The connection is opened first, so the 500 ms below only has to carry the call itself.
        Assert.Equal("warm", (await EchoServer.Client(channel).UnaryAsync(new EchoRequest { Message = "warm" })).Message);
        var sent = DateTime.UtcNow;
        var deadline = sent.AddMilliseconds(500);

        using var call = EchoServer.Client(channel).UnaryAsync(WaitForCancel, deadline: deadline);
        var context = await waiting.Within();
        var seen = DateTime.UtcNow;
        // The header carries the time left (grpc-timeout, whole milliseconds, rounded down) and the
        // server adds it to its own clock on arrival: its deadline is the caller's, later by at most the
        // time the call took to arrive, which this bracket measures instead of assuming it is short.
        var rounding = TimeSpan.FromMilliseconds(10);
        Assert.InRange(context.Deadline, deadline - rounding, deadline + (seen - sent) + rounding);

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        await cancelled.Within();
        await server.AssertIdleAsync();
    }

    [Fact]
    public async Task A_deadline_in_the_past_fails_at_once()
    {
        await using var server = await EchoServer.StartAsync();
        using var channel = server.Channel();

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await EchoServer.Client(channel).UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(-1)));

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.Equal(0, server.Echo.ActiveCalls);
    }

    [Fact]
    public async Task Client_cancellation_resets_the_stream_and_cancels_the_handler()
    {
        await using var server = await EchoServer.StartAsync();
        using var channel = server.Channel();
        var client = EchoServer.Client(channel);
        var (waiting, cancelled) = Observe(server);
        using var cts = new CancellationTokenSource();

        using var call = client.ClientStream(cancellationToken: cts.Token);
        await call.RequestStream.WriteAsync(WaitForCancel);
        await waiting.Within();
        await cts.CancelAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        await cancelled.Within(); // the handler saw its token cancelled
        await server.AssertIdleAsync();

        // The connection is still good for the next call.
        Assert.Equal("after", (await client.UnaryAsync(new EchoRequest { Message = "after" })).Message);
    }

    [Fact]
    public async Task Disposing_an_unfinished_call_cancels_it_on_the_server()
    {
        await using var server = await EchoServer.StartAsync();
        using var channel = server.Channel();
        var (waiting, cancelled) = Observe(server);

        var call = EchoServer.Client(channel).Bidi();
        await call.RequestStream.WriteAsync(WaitForCancel);
        await waiting.Within();
        call.Dispose();

        await cancelled.Within();
        await server.AssertIdleAsync();
        Assert.Equal(StatusCode.Cancelled, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task An_rpc_deadline_on_the_injected_clock_cancels_the_call_and_the_handler()
    {
        var clock = new ManualTimeProvider();
        await using var server = await EchoServer.StartAsync();
        using var channel = server.Channel();
        var (waiting, cancelled) = Observe(server);
        using var deadline = new RpcDeadline(TimeSpan.FromSeconds(5), clock, CancellationToken.None);

        using var call = EchoServer.Client(channel).UnaryAsync(WaitForCancel, cancellationToken: deadline.Token);
        await waiting.Within();
        clock.Advance(TimeSpan.FromSeconds(4));
        Assert.False(deadline.Token.IsCancellationRequested);
        clock.Advance(TimeSpan.FromSeconds(1));

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        await cancelled.Within();
        await server.AssertIdleAsync();
    }

    [Fact]
    public async Task An_rpc_deadline_follows_the_callers_token()
    {
        using var caller = new CancellationTokenSource();
        using var deadline = new RpcDeadline(TimeSpan.FromHours(1), new ManualTimeProvider(), caller.Token);
        Assert.False(deadline.Token.IsCancellationRequested);

        await caller.CancelAsync();

        Assert.True(deadline.Token.IsCancellationRequested);
    }

    /// <summary>Signals for the first handler that starts waiting and the first that sees cancellation.</summary>
    private static (TaskCompletionSource<ServerCallContext> Waiting, TaskCompletionSource<ServerCallContext> Cancelled) Observe(EchoServer server)
    {
        var waiting = Signal.Create<ServerCallContext>();
        var cancelled = Signal.Create<ServerCallContext>();
        server.Echo.Waiting += ctx => waiting.TrySetResult(ctx);
        server.Echo.Cancelled += ctx => cancelled.TrySetResult(ctx);
        return (waiting, cancelled);
    }
}
