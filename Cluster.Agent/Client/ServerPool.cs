using System.Runtime.CompilerServices;
using Cluster.Primitives;
using Cluster.Gossip.Wire;
using Cluster.Gossip.Pool;
using Cluster.Server.Nodes;
using Cluster.Contracts.State;
using Grpc.Core;

namespace Cluster.Agent.Client;

/// <summary>
/// A client agent's servers, found through gossip (members tagged role=consul with an rpc_addr,
/// alive, in this datacenter). Each client keeps its own shuffled order and sends to the first,
/// so clients spread over the servers; a server that cannot be reached goes to the back and the
/// call moves on. A call is retried on another server only when that is safe: always for reads,
/// and for writes only when the connection was never made (so nothing can have been applied).
/// </summary>
public sealed class ServerPool : IDisposable
{
    private readonly GossipPool _lan;
    private readonly string _datacenter;
    private readonly Random _random;
    private readonly TimeProvider _time;
    private readonly ChannelCache _channels = new(TimeSpan.FromSeconds(1));
    private readonly List<string> _order = [];

    public ServerPool(GossipPool lan, string datacenter, Random random, TimeProvider time)
    {
        _lan = lan;
        _datacenter = datacenter;
        _random = random;
        _time = time;
    }

    /// <summary>The servers in the order this client tries them.</summary>
    public IReadOnlyList<string> Servers
    {
        get
        {
            lock (_order)
            {
                Refresh();
                return [.. _order];
            }
        }
    }

    /// <summary>How long a call waits for gossip to name a first server before giving up.</summary>
    public TimeSpan NoServersWait { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Makes <paramref name="call"/> to one server after another until one answers; a non-idempotent call moves on only if it was never sent.</summary>
    public async Task<TResponse> CallAsync<TResponse>(Func<ServerRpc.ServerRpcClient, CallOptions, AsyncUnaryCall<TResponse>> call, bool idempotent, CancellationToken cancellationToken)
    {
        var tried = new HashSet<string>(StringComparer.Ordinal);
        RpcException? last = null;
        while (true)
        {
            var server = await NextAsync(tried, cancellationToken).ConfigureAwait(false);
            if (server is null)
            {
                throw last is null
                    ? new NoLeaderException("No known Consul servers")
                    : new NoLeaderException($"No Consul server answered: {last.Status.Detail}");
            }

            tried.Add(server);
            try
            {
                return await call(_channels.For(server), new CallOptions(cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
            catch (RpcException e) when (!cancellationToken.IsCancellationRequested && e.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Cancelled)
            {
                Demote(server);
                last = e;
                if (!idempotent && !RpcOutcome.NeverSent(e))
                {
                    throw; // it may have been applied: only the caller can tell whether to try again
                }
            }
        }
    }

    /// <summary>How long a stream waits before going round the servers again once every one has failed.</summary>
    public Backoff StreamBackoff { get; init; } = new(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(10));

    /// <summary>
    /// A server stream that outlives its server: when the server goes away (or ends the stream),
    /// <paramref name="open"/> is called again for the next one, and it asks to resume from what
    /// the caller has seen. Only the caller's cancellation ends it.
    /// </summary>
    public async IAsyncEnumerable<T> StreamAsync<T>(
        Func<ServerRpc.ServerRpcClient, CallOptions, AsyncServerStreamingCall<T>> open,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(open);
        var tried = new HashSet<string>(StringComparer.Ordinal);
        var rounds = 0;
        while (true)
        {
            var server = await NextAsync(tried, cancellationToken).ConfigureAwait(false);
            if (server is null)
            {
                // Every server has failed (or none is known): back off, then go round again.
                tried.Clear();
                await Task.Delay(StreamBackoff.After(++rounds, _random), _time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            tried.Add(server);
            using var call = open(_channels.For(server), new CallOptions(cancellationToken: cancellationToken));
            while (true)
            {
                try
                {
                    if (!await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
                    {
                        break; // servers end streams only when stopping: go on elsewhere
                    }
                }
                catch (RpcException e) when (!cancellationToken.IsCancellationRequested && e.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Cancelled or StatusCode.FailedPrecondition)
                {
                    break;
                }

                tried.Clear();
                rounds = 0;
                yield return call.ResponseStream.Current;
            }

            Demote(server);
        }
    }

    private async Task<string?> NextAsync(HashSet<string> tried, CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + NoServersWait;
        while (true)
        {
            var changed = _lan.Changed;
            lock (_order)
            {
                Refresh();
                if (_order.FirstOrDefault(s => !tried.Contains(s)) is { } next)
                {
                    return next;
                }

                if (_order.Count > 0 || tried.Count > 0)
                {
                    return null;
                }
            }

            // None known yet (the agent has just started or joined): wait briefly for gossip.
            var left = deadline - _time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                return null;
            }

            await Task.WhenAny(changed, Task.Delay(left, _time, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Keeps the order in step with gossip: new servers go to a random place, gone ones leave.</summary>
    private void Refresh()
    {
        var alive = _lan.Members
            .Where(m => m.Status is MemberStatus.Alive or MemberStatus.Suspect
                && m.Tags.GetValueOrDefault("role") == "consul"
                && m.Tags.GetValueOrDefault("dc", _datacenter) == _datacenter
                && m.Tags.GetValueOrDefault("rpc_addr") is { Length: > 0 })
            .Select(m => m.Tags["rpc_addr"])
            .ToHashSet(StringComparer.Ordinal);
        _order.RemoveAll(s => !alive.Contains(s));
        foreach (var server in alive.Order(StringComparer.Ordinal))
        {
            if (!_order.Contains(server))
            {
                _order.Insert(_random.Next(_order.Count + 1), server);
            }
        }
    }

    private void Demote(string server)
    {
        lock (_order)
        {
            if (_order.Remove(server))
            {
                _order.Add(server);
            }
        }
    }

    public void Dispose() => _channels.Dispose();
}
