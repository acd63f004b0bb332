using Cluster.Contracts.State;
using Cluster.Server.Connect;
using Cluster.Server.Nodes;
using Cluster.Server.Query;

namespace Cluster.Benchmarks;

/// <summary>
/// A client agent's connection to the servers, passed through unchanged, counting the leaf
/// signing requests it carries and how each ended: signed, refused by the CSR rate limit, failed.
/// </summary>
internal sealed class CountingConnection(IServerConnection inner) : IServerConnection
{
    private long _signed;
    private long _refused;
    private long _failed;

    public long Signed => Interlocked.Read(ref _signed);

    public long Refused => Interlocked.Read(ref _refused);

    public long Failed => Interlocked.Read(ref _failed);

    public void Reset()
    {
        Interlocked.Exchange(ref _signed, 0);
        Interlocked.Exchange(ref _refused, 0);
        Interlocked.Exchange(ref _failed, 0);
    }

    public async Task<SignReply> SignAsync(SignRequest request, CancellationToken cancellationToken = default)
    {
        try
        {
            var reply = await inner.SignAsync(request, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _signed);
            return reply;
        }
        catch (RateLimitedException)
        {
            Interlocked.Increment(ref _refused);
            throw;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _failed);
            throw;
        }
    }

    public Task<QueryResult<T>> QueryAsync<T>(StateQuery<T> query, ReadOptions options, CancellationToken cancellationToken = default) =>
        inner.QueryAsync(query, options, cancellationToken);

    public Task<bool> RenewSessionAsync(string id, CancellationToken cancellationToken = default) => inner.RenewSessionAsync(id, cancellationToken);

    public Task<string> LeaderAddressAsync(CancellationToken cancellationToken = default) => inner.LeaderAddressAsync(cancellationToken);

    public Task<RaftConfigurationReply> RaftConfigurationAsync(Consistency consistency, CancellationToken cancellationToken = default) =>
        inner.RaftConfigurationAsync(consistency, cancellationToken);

    public Task RemovePeerAsync(PeerRequest peer, CancellationToken cancellationToken = default) => inner.RemovePeerAsync(peer, cancellationToken);

    public Task TransferLeaderAsync(PeerRequest peer, CancellationToken cancellationToken = default) => inner.TransferLeaderAsync(peer, cancellationToken);

    public Task<CaConfigureReply> ConfigureCaAsync(CaConfigureRequest request, CancellationToken cancellationToken = default) =>
        inner.ConfigureCaAsync(request, cancellationToken);

    public IAsyncEnumerable<SubscribeEvent> SubscribeAsync(SubscribeRequest request, CancellationToken cancellationToken = default) =>
        inner.SubscribeAsync(request, cancellationToken);

    public Task<(ulong Index, CommandResult Result)> ApplyAsync(Command command, CancellationToken cancellationToken = default) =>
        inner.ApplyAsync(command, cancellationToken);

    public Task<NodeStateReply> NodeStateAsync(string node, Consistency consistency, CancellationToken cancellationToken = default) =>
        inner.NodeStateAsync(node, consistency, cancellationToken);
}
