using Google.Protobuf;
using Grpc.Core;
using EchoGrpc = Cluster.Testing.Echo.Echo;

namespace Cluster.Testing.Echo;

/// <summary>
/// The echo service on Grpc.AspNetCore (node/interop/server.js is the grpc-js twin).
/// Request headers "x-echo" and "x-echo-bin" come back as response headers and, suffixed
/// "-trailer", as trailers.
/// </summary>
public sealed class EchoService : EchoGrpc.EchoBase
{
    private readonly Lock _cancelLock = new();
    private TaskCompletionSource _nextCancel = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _cancelledCalls;
    private long _activeCalls;
    private TaskCompletionSource _idle = Completed();

    /// <summary>Completes each time a handler observes its call being cancelled.</summary>
    public event Action<ServerCallContext>? Cancelled;

    /// <summary>Fires when a handler starts waiting for cancellation (wait_for_cancel).</summary>
    public event Action<ServerCallContext>? Waiting;

    public long CancelledCalls => Interlocked.Read(ref _cancelledCalls);

    public long ActiveCalls => Interlocked.Read(ref _activeCalls);

    /// <summary>Completes when no handler is running (at once if none is).</summary>
    public Task WhenIdleAsync()
    {
        lock (_cancelLock)
        {
            return _idle.Task;
        }
    }

    public override async Task<StatsReply> Stats(StatsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        while (Interlocked.Read(ref _cancelledCalls) < request.MinCancelledCalls)
        {
            Task next;
            lock (_cancelLock)
            {
                if (Interlocked.Read(ref _cancelledCalls) >= request.MinCancelledCalls)
                {
                    break;
                }

                next = _nextCancel.Task;
            }

            await next.WaitAsync(context.CancellationToken);
        }

        return new StatsReply { CancelledCalls = Interlocked.Read(ref _cancelledCalls), ActiveCalls = Interlocked.Read(ref _activeCalls) };
    }

    public override Task<EchoReply> Unary(EchoRequest request, ServerCallContext context) =>
        Track(context, async () =>
        {
            await EchoHeadersAsync(context);
            await MaybeWaitForCancelAsync(request, context);
            ThrowIfStatus(request, context);
            return Reply(request, 0);
        });

    public override Task ServerStream(EchoRequest request, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context) =>
        Track(context, async () =>
        {
            await EchoHeadersAsync(context);
            for (var i = 0; i < request.ResponseCount; i++)
            {
                await responseStream.WriteAsync(Reply(request, i));
            }

            await MaybeWaitForCancelAsync(request, context);
            ThrowIfStatus(request, context);
            return 0;
        });

    public override Task<EchoReply> ClientStream(IAsyncStreamReader<EchoRequest> requestStream, ServerCallContext context) =>
        Track(context, async () =>
        {
            var messages = new List<string>();
            var payload = new List<byte>();
            await foreach (var request in requestStream.ReadAllAsync())
            {
                messages.Add(request.Message);
                payload.AddRange(request.Payload);
                await MaybeWaitForCancelAsync(request, context);
                ThrowIfStatus(request, context);
            }

            return new EchoReply { Message = string.Join(",", messages), Payload = ByteString.CopyFrom(payload.ToArray()), Index = messages.Count };
        });

    public override Task Bidi(IAsyncStreamReader<EchoRequest> requestStream, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context) =>
        Track(context, async () =>
        {
            var index = 0;
            await foreach (var request in requestStream.ReadAllAsync())
            {
                await MaybeWaitForCancelAsync(request, context);
                ThrowIfStatus(request, context);
                await responseStream.WriteAsync(Reply(request, index++));
            }

            return 0;
        });

    private async Task<T> Track<T>(ServerCallContext context, Func<Task<T>> body)
    {
        lock (_cancelLock)
        {
            if (++_activeCalls == 1)
            {
                _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        try
        {
            return await body();
        }
        catch (Exception ex) when (context.CancellationToken.IsCancellationRequested || ex is RpcException { StatusCode: StatusCode.Cancelled } or IOException)
        {
            // A reset seen by a read surfaces as an exception, possibly before the token flips:
            // Kestrel fails the body with IOException ("The client reset the request stream.") at
            // once and cancels RequestAborted (the call's token) later, on the thread pool.
            lock (_cancelLock)
            {
                Interlocked.Increment(ref _cancelledCalls);
                _nextCancel.TrySetResult();
                _nextCancel = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            Cancelled?.Invoke(context);
            throw;
        }
        finally
        {
            lock (_cancelLock)
            {
                if (--_activeCalls == 0)
                {
                    _idle.TrySetResult();
                }
            }
        }
    }

    private async Task MaybeWaitForCancelAsync(EchoRequest request, ServerCallContext context)
    {
        if (request.WaitForCancel)
        {
            Waiting?.Invoke(context);
            await context.CancellationToken.WhenCancelled();
        }
    }

    private static async Task EchoHeadersAsync(ServerCallContext context)
    {
        var echo = context.RequestHeaders.GetValue("x-echo");
        var echoBin = context.RequestHeaders.GetValueBytes("x-echo-bin");
        if (echo is null && echoBin is null)
        {
            return;
        }

        var headers = new Metadata();
        if (echo is not null)
        {
            headers.Add("x-echo", echo);
            context.ResponseTrailers.Add("x-echo-trailer", echo);
        }

        if (echoBin is not null)
        {
            headers.Add("x-echo-bin", echoBin);
            context.ResponseTrailers.Add("x-echo-trailer-bin", echoBin);
        }

        await context.WriteResponseHeadersAsync(headers);
    }

    private static void ThrowIfStatus(EchoRequest request, ServerCallContext context)
    {
        if (request.StatusCode != 0)
        {
            context.ResponseTrailers.Add("x-error-detail", "requested");
            throw new RpcException(new Status((StatusCode)request.StatusCode, request.StatusMessage));
        }
    }

    private static TaskCompletionSource Completed()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.SetResult();
        return done;
    }

    private static EchoReply Reply(EchoRequest request, int index) => new()
    {
        Message = request.Message,
        Payload = request.ResponseSize > 0 ? ByteString.CopyFrom(new byte[request.ResponseSize]) : request.Payload,
        Index = index,
    };
}
