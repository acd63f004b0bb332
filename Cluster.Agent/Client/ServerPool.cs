using Cluster.Gossip.Wire;
using Cluster.Gossip.Pool;
using Cluster.Server.Core;
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
