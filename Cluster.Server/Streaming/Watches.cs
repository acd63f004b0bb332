using System.Runtime.CompilerServices;
using Cluster.Contracts.State;
using Cluster.Server.Nodes;

namespace Cluster.Server.Streaming;

/// <summary>One state of a watched subject: the index it is current as of, and its entries.</summary>
public sealed record Watched<T>(ulong Index, IReadOnlyList<T> Entries);

/// <summary>A service's healthy and unhealthy instances, each with its node and checks, as they change.</summary>
public interface IServiceHealthWatch
{
    IAsyncEnumerable<Watched<CatalogInstance>> WatchHealthAsync(string service, CancellationToken cancellationToken = default);
}

/// <summary>Config entries of one kind (or one entry), as they change: service-defaults, proxy-defaults, intentions.</summary>
public interface IConfigWatch
{
    IAsyncEnumerable<Watched<ConfigEntry>> WatchConfigAsync(string kind, string? name = null, CancellationToken cancellationToken = default);
}

/// <summary>
/// The narrow watches the mesh's proxy snapshot actors use, kept by a subscription through
/// <see cref="IServerConnection.SubscribeAsync"/>: on a server straight from its store, on a
/// client agent over gRPC (resuming on another server when its server goes). Each value is the
/// whole subject after a change, never half a snapshot.
/// </summary>
public sealed class SubscriptionWatches(IServerConnection servers) : IServiceHealthWatch, IConfigWatch
{
    public IAsyncEnumerable<Watched<CatalogInstance>> WatchHealthAsync(string service, CancellationToken cancellationToken = default) =>
        WatchAsync<CatalogInstance>(SubscriptionTopic.ServiceHealth, service, cancellationToken);

    public IAsyncEnumerable<Watched<ConfigEntry>> WatchConfigAsync(string kind, string? name = null, CancellationToken cancellationToken = default) =>
        WatchAsync<ConfigEntry>(SubscriptionTopic.Config, name is null ? kind : $"{kind}/{name}", cancellationToken);

    private async IAsyncEnumerable<Watched<T>> WatchAsync<T>(string topic, string key, [EnumeratorCancellation] CancellationToken cancellationToken)
        where T : class
    {
        var view = new SubscriptionView();
        await foreach (var e in servers.SubscribeAsync(new SubscribeRequest { Topic = topic, Key = key }, cancellationToken).ConfigureAwait(false))
        {
            view.Apply(e);
            if (view.Ready && !e.NewSnapshotToFollow)
            {
                yield return new Watched<T>(view.Index, [.. view.Entries.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (T)p.Value)]);
            }
        }
    }
}
