using Cluster.Contracts.State;
using Cluster.Server.Query;
using Cluster.Server.State;
using Cluster.Server.Streaming;
using Grpc.Core;

namespace Cluster.Server.Nodes;

/// <summary>
/// Reads answered from this server's store: typed blocking queries (Consul's ?index and ?wait)
/// and subscriptions to the change feed, for this server's own agent and, over RPC, for client agents.
/// </summary>
public sealed partial class ServerNode
{
    /// <summary>Consul's cap on ?wait.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(10);

    public async Task<QueryResult<T>> QueryAsync<T>(StateQuery<T> query, ReadOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var read = await BlockAsync(query.Run, options, cancellationToken).ConfigureAwait(false);
        var (known, contact) = LeaderContact();
        return new(read.Index, read.Result, known, contact);
    }

    public IAsyncEnumerable<SubscribeEvent> SubscribeAsync(SubscribeRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Subscription.RunAsync(Store, SubscriptionTopic.Parse(request.Topic, request.Key), request.Index, cancellationToken);
    }

    /// <summary>
    /// Waits for the consistency barrier and reads; if the answer's index is still the caller's, waits
    /// on the watches the read registered (or the deadline) and reads again. Each wake-up re-reads only
    /// what this query reads. An index behind the caller's (a restored snapshot, another server)
    /// answers at once, so the caller resets.
    /// </summary>
    private async Task<Read<T>> BlockAsync<T>(Func<StateVersion, Read<T>> read, ReadOptions options, CancellationToken cancellationToken)
    {
        await ReadBarrierAsync(options.Consistency, cancellationToken).ConfigureAwait(false);
        var result = read(Store.Current);
        if (!options.Blocks || result.Index != options.MinIndex)
        {
            return result;
        }

        // Jitter (up to wait/16, as Consul) spreads the re-requests of many watchers whose waits end together.
        var wait = options.Wait < MaxWait ? options.Wait : MaxWait;
        var jitter = TimeSpan.FromTicks((long)(wait.Ticks / 16.0 * NextJitter()));
        using var timer = new CancellationTokenSource(wait + jitter, Options.Time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token, _stopping.Token);
        while (result.Index == options.MinIndex)
        {
            try
            {
                await Task.WhenAny(result.Watches).WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                break; // the wait ran out (or the server stops): answer with what is current
            }

            if (options.Consistency == Consistency.Consistent)
            {
                await ReadBarrierAsync(options.Consistency, cancellationToken).ConfigureAwait(false);
            }

            result = read(Store.Current);
        }

        return result;
    }

    private double NextJitter()
    {
        var random = Options.Random;
        lock (random)
        {
            return random.NextDouble();
        }
    }

    internal async Task<QueryReply> ServeQueryAsync(QueryRequest request, ServerCallContext context)
    {
        var query = StateQueries.FromRequest(request)
            ?? throw new RpcException(new Status(StatusCode.InvalidArgument, $"unknown query ({request.QueryCase})"));
        var read = await Served(BlockAsync(query.RunEncoded, ReadOptions.FromProto(request.Options), context.CancellationToken)).ConfigureAwait(false);
        var (known, contact) = LeaderContact();
        var reply = read.Result;
        reply.KnownLeader = known;
        reply.LastContactMs = (long)contact.TotalMilliseconds;
        return reply;
    }

    internal async Task ServeSubscribeAsync(SubscribeRequest request, IServerStreamWriter<SubscribeEvent> stream, ServerCallContext context)
    {
        IAsyncEnumerable<SubscribeEvent> events;
        try
        {
            events = SubscribeAsync(request, context.CancellationToken);
        }
        catch (ArgumentException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }

        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, _stopping.Token);
        try
        {
            await foreach (var e in events.WithCancellation(stopping.Token).ConfigureAwait(false))
            {
                await stream.WriteAsync(e, stopping.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            // The reader resumes on another server from the last index it saw.
            throw new RpcException(new Status(StatusCode.Unavailable, "server shutting down"));
        }
    }
}
