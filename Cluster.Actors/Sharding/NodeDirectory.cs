using System.Collections.Immutable;
using AkkaAddress = Akka.Actor.Address;

namespace Cluster.Actors.Sharding;

/// <summary>Node name → actor address, as the gossip pool last said (formation keeps it current; placement reads it).</summary>
public sealed class NodeDirectory
{
    private ImmutableDictionary<string, AkkaAddress> _entries = ImmutableDictionary<string, AkkaAddress>.Empty;

    public ImmutableDictionary<string, AkkaAddress> Entries => Volatile.Read(ref _entries);

    public AkkaAddress? Find(string node) => Entries.TryGetValue(node, out var address) ? address : null;

    public void Replace(ImmutableDictionary<string, AkkaAddress> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        Volatile.Write(ref _entries, entries);
    }
}
