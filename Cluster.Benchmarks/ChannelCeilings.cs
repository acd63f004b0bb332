using System.Diagnostics;
using System.Threading.Channels;

namespace Cluster.Benchmarks;

/// <summary>
/// The ceilings the actor figures are read against: the same workloads with no actor runtime,
/// only System.Threading.Channels and tasks. An actor is a queue plus a reader scheduled on the
/// thread pool, so this is about as fast (and as small) as any runtime here could be.
/// </summary>
internal static class ChannelCeilings
{
    /// <summary>Ping-pong pairs of tasks over two channels, one message in flight per pair; messages per second.</summary>
    public static async Task<double> PingPongAsync(int pairs, long messagesPerPair)
    {
        var options = new UnboundedChannelOptions { SingleReader = true, SingleWriter = true };
        var tasks = new List<Task>();
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < pairs; i++)
        {
            var toB = Channel.CreateUnbounded<object>(options);
            var toA = Channel.CreateUnbounded<object>(options);
            var ball = new object();
            tasks.Add(Task.Run(async () =>
            {
                for (var n = 0L; n < messagesPerPair; n += 2)
                {
                    toB.Writer.TryWrite(ball);
                    await toA.Reader.ReadAsync();
                }
            }));
            tasks.Add(Task.Run(async () =>
            {
                for (var n = 0L; n < messagesPerPair; n += 2)
                {
                    var received = await toB.Reader.ReadAsync();
                    toA.Writer.TryWrite(received);
                }
            }));
        }

        await Task.WhenAll(tasks);
        return pairs * messagesPerPair / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Request/reply the way Ask works: a channel to one server task, a TaskCompletionSource per request.</summary>
    public static async Task<LoadResult> RequestReplyAsync(int callers, int perCaller)
    {
        var reply = new object();
        var requests = Channel.CreateUnbounded<TaskCompletionSource<object>>(new UnboundedChannelOptions { SingleReader = true });
        var server = Task.Run(async () =>
        {
            await foreach (var request in requests.Reader.ReadAllAsync())
            {
                request.TrySetResult(reply);
            }
        });
        var result = await ActorBenchmark.MeasureAsync(callers, perCaller, () =>
        {
            // Continuations off the server's thread, as an Ask's reply arrives on another thread.
            var pending = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
            requests.Writer.TryWrite(pending);
            return pending.Task;
        });
        requests.Writer.Complete();
        await server;
        return result;
    }

    /// <summary>Managed bytes per idle Channel&lt;object&gt; with a reader task awaiting it.</summary>
    public static async Task<double> BytesPerIdleReaderAsync(int count)
    {
        var readers = new List<(Channel<object> Channel, Task Reader)>(count);
        var before = ActorBenchmark.Settle();
        for (var i = 0; i < count; i++)
        {
            var channel = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
            readers.Add((channel, ReadLoopAsync(channel)));
        }

        var after = ActorBenchmark.Settle();
        foreach (var (channel, _) in readers)
        {
            channel.Writer.Complete();
        }

        await Task.WhenAll(readers.Select(r => r.Reader));
        return (after - before) / (double)count;

        static async Task ReadLoopAsync(Channel<object> channel)
        {
            await foreach (var _ in channel.Reader.ReadAllAsync())
            {
            }
        }
    }
}
