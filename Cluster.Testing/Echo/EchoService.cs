using Cluster.Grpc;
using Cluster.Grpc.Server;
using Google.Protobuf;

namespace Cluster.Testing.Echo;

/// <summary>
/// Our implementation of the echo service (node/interop/server.js is the grpc-js twin).
/// Request headers "x-echo" and "x-echo-bin" come back as response headers and, suffixed
/// "-trailer", as trailers.
/// </summary>
public sealed class EchoService : IGrpcService
{
    private readonly Lock _cancelLock = new();
    private TaskCompletionSource _nextCancel = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _cancelledCalls;
    private long _activeCalls;

    /// <summary>Completes each time a handler observes its call being cancelled.</summary>
    public event Action<ServerCallContext>? Cancelled;

    /// <summary>Fires when a handler starts waiting for cancellation (wait_for_cancel).</summary>
    public event Action<ServerCallContext>? Waiting;

    public long CancelledCalls => Interlocked.Read(ref _cancelledCalls);

    public void Register(GrpcServiceRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry
            .AddUnary(EchoMethods.Unary, UnaryAsync)
            .AddServerStreaming(EchoMethods.ServerStream, ServerStreamAsync)
            .AddClientStreaming(EchoMethods.ClientStream, ClientStreamAsync)
            .AddDuplexStreaming(EchoMethods.Bidi, BidiAsync)
            .AddUnary(EchoMethods.Stats, StatsAsync);
    }

    private async Task<StatsReply> StatsAsync(StatsRequest request, ServerCallContext context)
    {
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

    private Task<EchoReply> UnaryAsync(EchoRequest request, ServerCallContext context) =>
        Track(context, async () =>
        {
            await EchoHeadersAsync(context);
            await MaybeWaitForCancelAsync(request, context);
            ThrowIfStatus(request, context);
            return Reply(request, 0);
        });

    private Task ServerStreamAsync(EchoRequest request, IAsyncStreamWriter<EchoReply> responses, ServerCallContext context) =>
        Track(context, async () =>
        {
            await EchoHeadersAsync(context);
            for (var i = 0; i < request.ResponseCount; i++)
            {
                await responses.WriteAsync(Reply(request, i));
            }

            await MaybeWaitForCancelAsync(request, context);
            ThrowIfStatus(request, context);
            return 0;
        });

    private Task<EchoReply> ClientStreamAsync(IAsyncStreamReader<EchoRequest> requests, ServerCallContext context) =>
        Track(context, async () =>
        {
            var messages = new List<string>();
            var payload = new List<byte>();
            await foreach (var request in requests.ReadAllAsync())
            {
                messages.Add(request.Message);
                payload.AddRange(request.Payload);
                await MaybeWaitForCancelAsync(request, context);
                ThrowIfStatus(request, context);
            }

            return new EchoReply { Message = string.Join(",", messages), Payload = ByteString.CopyFrom(payload.ToArray()), Index = messages.Count };
        });

    private Task BidiAsync(IAsyncStreamReader<EchoRequest> requests, IAsyncStreamWriter<EchoReply> responses, ServerCallContext context) =>
        Track(context, async () =>
        {
            var index = 0;
            await foreach (var request in requests.ReadAllAsync())
            {
                await MaybeWaitForCancelAsync(request, context);
                ThrowIfStatus(request, context);
                await responses.WriteAsync(Reply(request, index++));
            }

            return 0;
        });

    private async Task<T> Track<T>(ServerCallContext context, Func<Task<T>> body)
    {
        Interlocked.Increment(ref _activeCalls);
        try
        {
            return await body();
        }
        catch (Exception ex) when (context.CancellationToken.IsCancellationRequested || ex is RpcException { StatusCode: StatusCode.Cancelled })
        {
            // A reset seen by a read surfaces as CANCELLED, possibly before the token flips.
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
            Interlocked.Decrement(ref _activeCalls);
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

    private static EchoReply Reply(EchoRequest request, int index) => new()
    {
        Message = request.Message,
        Payload = request.ResponseSize > 0 ? ByteString.CopyFrom(new byte[request.ResponseSize]) : request.Payload,
        Index = index,
    };
}
