using Cluster.Contracts.State;
using Google.Protobuf;

namespace Cluster.Server.Streaming;

/// <summary>
/// A reader's copy of one subject, kept by applying its subscription's events (Consul's
/// materialized view): entries by key, the index they are current as of, and whether a whole
/// snapshot has arrived. A new snapshot is built aside and replaces the entries when it ends, so
/// readers never see half of one.
/// </summary>
public sealed class SubscriptionView
{
    private Dictionary<string, IMessage> _entries = new(StringComparer.Ordinal);
    private Dictionary<string, IMessage>? _building = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, IMessage> Entries => _entries;

    /// <summary>The index the entries are current as of (0 until the first snapshot ends).</summary>
    public ulong Index { get; private set; }

    /// <summary>Whether a whole snapshot has arrived.</summary>
    public bool Ready { get; private set; }

    /// <summary>How many snapshots have replaced the entries (1 after the first).</summary>
    public int Snapshots { get; private set; }

    public void Apply(SubscribeEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.NewSnapshotToFollow)
        {
            _building = new(StringComparer.Ordinal);
            return;
        }

        var target = _building ?? _entries;
        foreach (var change in e.Changes)
        {
            Apply(target, change);
        }

        if (e.EndOfSnapshot)
        {
            _entries = _building ?? _entries;
            _building = null;
            Ready = true;
            Snapshots++;
        }

        if (_building is null)
        {
            Index = Math.Max(Index, e.Index);
        }
    }

    private static void Apply(Dictionary<string, IMessage> target, SubscribeChange change)
    {
        switch (change.PayloadCase)
        {
            case SubscribeChange.PayloadOneofCase.KvUpsert:
                target[change.KvUpsert.Key] = change.KvUpsert;
                break;
            case SubscribeChange.PayloadOneofCase.KvDelete:
                target.Remove(change.KvDelete);
                break;
            case SubscribeChange.PayloadOneofCase.InstanceUpsert:
                target[InstanceKey(change.InstanceUpsert.Node.Name, change.InstanceUpsert.Service.Id)] = change.InstanceUpsert;
                break;
            case SubscribeChange.PayloadOneofCase.InstanceDelete:
                target.Remove(InstanceKey(change.InstanceDelete.Node, change.InstanceDelete.ServiceId));
                break;
            case SubscribeChange.PayloadOneofCase.ConfigUpsert:
                target[ConfigKey(change.ConfigUpsert.Kind, change.ConfigUpsert.Name)] = change.ConfigUpsert;
                break;
            case SubscribeChange.PayloadOneofCase.ConfigDelete:
                target.Remove(ConfigKey(change.ConfigDelete.Kind, change.ConfigDelete.Name));
                break;
        }
    }

    /// <summary>An instance's key: node names match case-insensitively, as in the catalog.</summary>
    public static string InstanceKey(string node, string serviceId) => node.ToLowerInvariant() + "/" + serviceId;

    public static string ConfigKey(string kind, string name) => kind + "/" + name;
}
