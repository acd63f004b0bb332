using Cluster.Grpc;
using Cluster.Grpc.Client;
using Cluster.Grpc.Server;
using Cluster.Testing;
using Cluster.Testing.Echo;
using Microsoft.AspNetCore.Http.Features;

namespace Cluster.Tests.Grpc;

/// <summary>Deadlines on virtual clocks, and cancellation started by either side.</summary>
public sealed class DeadlineAndCancellationTests
{
    private static readonly EchoRequest WaitForCancel = new() { Message = "wait", WaitForCancel = true };

    [Fact]
    public async Task Server_enforces_the_deadline_it_was_sent()
    {
        var serverClock = new ManualTimeProvider();
        var clientClock = new ManualTimeProvider();
        await using var server = await EchoServer.StartAsync(new GrpcServerOptions { TimeProvider = serverClock });
        using var channel = server.Channel(new GrpcChannelOptions { TimeProvider = clientClock });
        var (waiting, cancelled) = Observe(server);

        using var call = channel.Unary(EchoMethods.Unary, WaitForCancel, new CallOptions(Deadline: clientClock.GetUtcNow() + TimeSpan.FromSeconds(5)));
        var context = await waiting.Within();
        Assert.Equal(serverClock.GetUtcNow() + TimeSpan.FromSeconds(5), context.Deadline);

        serverClock.Advance(TimeSpan.FromSeconds(5));

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        await cancelled.Within();
        await server.AssertIdleAsync();
        Assert.Equal(0, serverClock.ActiveTimers);
    }

    [Fact]
    public async Task Server_deadline_answers_even_while_a_stream_is_open()
    {
        var serverClock = new ManualTimeProvider();
        await using var server = await EchoServer.StartAsync(new GrpcServerOptions { TimeProvider = serverClock });
        using var channel = server.Channel(new GrpcChannelOptions { TimeProvider = new ManualTimeProvider() });
        var waiting = Signal.Create<ServerCallContext>();
        server.Echo.Waiting += ctx => waiting.TrySetResult(ctx);

        using var call = channel.DuplexStreaming(EchoMethods.Bidi, new CallOptions(Deadline: DateTimeOffset.MaxValue.AddDays(-1)));
        await call.RequestStream.WriteAsync(new EchoRequest { Message = "first" });
        Assert.True(await call.ResponseStream.MoveNext());
        await call.RequestStream.WriteAsync(WaitForCancel);
        await waiting.Within();
        Assert.True((await waiting.Task).Deadline > serverClock.GetUtcNow().AddYears(7000));
        // A deadline too far away to arm is no deadline: nothing fires.
        serverClock.Advance(TimeSpan.FromDays(365));

        using var shortCall = channel.DuplexStreaming(EchoMethods.Bidi, new CallOptions(Deadline: new ManualTimeProvider().GetUtcNow() + TimeSpan.FromMilliseconds(250)));
        await shortCall.RequestStream.WriteAsync(new EchoRequest { Message = "x" });
        Assert.True(await shortCall.ResponseStream.MoveNext());
        serverClock.Advance(TimeSpan.FromMilliseconds(250));

        var ex = await Assert.ThrowsAsync<RpcException>(() => shortCall.ResponseStream.MoveNext().AsTask());
        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        call.Dispose();
        await server.AssertIdleAsync();
    }

    [Fact]
    public async Task Client_enforces_its_own_deadline_and_the_server_sees_the_reset()
    {
        var clientClock = new ManualTimeProvider();
        await using var server = await EchoServer.StartAsync();
        using var channel = server.Channel(new GrpcChannelOptions { TimeProvider = clientClock });
        var (waiting, cancelled) = Observe(server);

        using var call = channel.ServerStreaming(EchoMethods.ServerStream, WaitForCancel, new CallOptions(Deadline: clientClock.GetUtcNow() + TimeSpan.FromMinutes(10)));
        await waiting.Within();
        clientClock.Advance(TimeSpan.FromMinutes(10));

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext().AsTask());
        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.Equal(StatusCode.DeadlineExceeded, call.GetStatus().Code);
        await cancelled.Within();
        await server.AssertIdleAsync();
        Assert.Equal(0, clientClock.ActiveTimers);
    }

    [Fact]
    public async Task Deadline_in_the_past_fails_without_sending()
    {
        var clientClock = new ManualTimeProvider();
        await using var server = await EchoServer.StartAsync();
        using var channel = server.Channel(new GrpcChannelOptions { TimeProvider = clientClock });

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            channel.UnaryAsync(EchoMethods.Unary, new EchoRequest(), new CallOptions(Deadline: clientClock.GetUtcNow() - TimeSpan.FromSeconds(1))));

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.Equal(0, server.Dispatcher.TotalCalls);
    }

    [Fact]
    public async Task Client_cancellation_resets_the_stream_and_cancels_the_handler()
    {
        await using var server = await EchoServer.StartAsync();
        using var channel = server.Channel();
        var (waiting, cancelled) = Observe(server);
        using var cts = new CancellationTokenSource();

        using var call = channel.ClientStreaming(EchoMethods.ClientStream, new CallOptions(CancellationToken: cts.Token));
        await call.RequestStream.WriteAsync(WaitForCancel);
        await waiting.Within();
        await cts.CancelAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        var context = await cancelled.Within();
        Assert.True(context.CancellationToken.IsCancellationRequested);
        await server.AssertIdleAsync();

        // The connection is still good for the next call.
        Assert.Equal("after", (await channel.UnaryAsync(EchoMethods.Unary, new EchoRequest { Message = "after" })).Message);
    }

    [Fact]
    public async Task Disposing_an_unfinished_call_cancels_it_on_the_server()
    {
        await using var server = await EchoServer.StartAsync();
        using var channel = server.Channel();
        var (waiting, cancelled) = Observe(server);

        var call = channel.DuplexStreaming(EchoMethods.Bidi);
        await call.RequestStream.WriteAsync(WaitForCancel);
        await waiting.Within();
        call.Dispose();

        await cancelled.Within();
        await server.AssertIdleAsync();
        Assert.Equal(StatusCode.Cancelled, call.GetStatus().Code);
    }

    [Fact]
    public async Task Server_ending_the_call_with_cancelled_reaches_the_client()
    {
        var method = new Method<EchoRequest, EchoReply>("test.Cancel", "Bidi", MethodType.DuplexStreaming);
        await using var server = await EchoServer.StartAsync(extra: r => r.AddDuplexStreaming(method, async (requests, responses, ctx) =>
        {
            await requests.MoveNext();
            await responses.WriteAsync(new EchoReply { Message = "one" });
            throw new RpcException(StatusCode.Cancelled, "server gave up");
        }));
        using var channel = server.Channel();

        using var call = channel.DuplexStreaming(method);
        await call.RequestStream.WriteAsync(new EchoRequest());
        Assert.True(await call.ResponseStream.MoveNext());
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext().AsTask());

        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        Assert.Equal("server gave up", ex.Status.Detail);
        await server.AssertIdleAsync();
    }

    [Fact]
    public async Task Server_stream_reset_maps_to_cancelled_on_the_client()
    {
        var method = new Method<EchoRequest, EchoReply>("test.Reset", "Stream", MethodType.ServerStreaming);
        await using var server = await EchoServer.StartAsync(extra: r => r.AddServerStreaming(method, async (request, responses, ctx) =>
        {
            await responses.WriteAsync(new EchoReply { Message = "before reset" });
            ctx.HttpContext.Features.Get<IHttpResetFeature>()!.Reset(0x8);
        }));
        using var channel = server.Channel();

        using var call = channel.ServerStreaming(method, new EchoRequest());
        var messages = new List<string>();
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var reply in call.ResponseStream.ReadAllAsync())
            {
                messages.Add(reply.Message);
            }
        });

        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        Assert.True(messages.Count <= 1);
        await server.AssertIdleAsync();
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

    [Fact]
    public void Deadline_helper_uses_the_given_clock()
    {
        var clock = new ManualTimeProvider();
        var options = CallOptions.WithTimeout(TimeSpan.FromSeconds(3), clock);
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromSeconds(3), options.Deadline);
    }
}
