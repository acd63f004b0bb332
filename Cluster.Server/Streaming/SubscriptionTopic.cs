using Cluster.Contracts.State;
using Cluster.Server.State;

namespace Cluster.Server.Streaming;

/// <summary>
/// One subject of the change feed (a KV prefix, a service's health, a kind of config entry) and
/// the pure functions that turn state into its events: the snapshot of a version, and the
/// changes a run of state events made between two versions. A subscription drives them.
/// </summary>
public abstract record SubscriptionTopic
{
    public const string Kv = "kv";
    public const string ServiceHealth = "service-health";
    public const string Config = "config";

    /// <summary>The subject a request names, or why it names none.</summary>
    public static SubscriptionTopic Parse(string topic, string key)
    {
        ArgumentNullException.ThrowIfNull(topic);
        ArgumentNullException.ThrowIfNull(key);
        return topic switch
        {
            Kv => new KvTopic(key),
            ServiceHealth when key.Length == 0 => throw new ArgumentException("topic service-health needs a service name as its key"),
            ServiceHealth => new ServiceHealthTopic(key),
            Config when key.Length == 0 => throw new ArgumentException("topic config needs a kind (or kind/name) as its key"),
            Config => key.Split('/', 2) is [var kind, var name] ? new ConfigTopic(kind, name) : new ConfigTopic(key, null),
            _ => throw new ArgumentException($"unknown topic \"{topic}\" (want {Kv}, {ServiceHealth} or {Config})"),
        };
    }

    /// <summary>Every entry of the subject in <paramref name="state"/>, as upserts.</summary>
    public abstract IEnumerable<SubscribeChange> Snapshot(StateVersion state);

    /// <summary>
    /// The events that take a reader from <paramref name="before"/> to <paramref name="after"/>, given
    /// the state events committed between them. <paramref name="before"/> is null when the reader's
    /// state is not known here (a resumed subscription): then every entry touched and now absent is
    /// sent as a delete, which a reader that never had it ignores.
    /// </summary>
    public abstract IEnumerable<SubscribeChange> Changes(StateVersion? before, StateVersion after, IEnumerable<StateEvent> events);

    /// <summary>
    /// The changes of a subject that is a set of keys in one table: each key touched (in key order)
    /// is sent as it now is, or as a delete if it is gone and the reader had it (or may have).
    /// </summary>
    private protected static IEnumerable<SubscribeChange> KeyedChanges<T>(
        IEnumerable<StateEvent> events,
        string table,
        Func<string, bool> inSubject,
        RadixTree<T> after,
        RadixTree<T>? before,
        Func<T, SubscribeChange> upsert,
        Func<string, SubscribeChange> delete)
    {
        var keys = new SortedSet<string>(events.Where(e => e.Topic == table && inSubject(e.Key)).Select(e => e.Key), StringComparer.Ordinal);
        foreach (var key in keys)
        {
            if (after.TryGet(key, out var entry))
            {
                yield return upsert(entry);
            }
            else if (before is null || before.TryGet(key, out _))
            {
                yield return delete(key);
            }
        }
    }
}

/// <summary>Every key under a prefix (the empty prefix: the whole store).</summary>
public sealed record KvTopic(string Prefix) : SubscriptionTopic
{
    public override IEnumerable<SubscribeChange> Snapshot(StateVersion state) =>
        state.Kvs.PrefixWatch(Prefix).Entries.Select(e => new SubscribeChange { KvUpsert = e.Value });

    public override IEnumerable<SubscribeChange> Changes(StateVersion? before, StateVersion after, IEnumerable<StateEvent> events) =>
        KeyedChanges(
            events,
            Tables.Kvs,
            key => key.StartsWith(Prefix, StringComparison.Ordinal),
            after.Kvs,
            before?.Kvs,
            entry => new SubscribeChange { KvUpsert = entry },
            key => new SubscribeChange { KvDelete = key });
}

/// <summary>The instances of one service with their nodes and checks (Consul's service-health topic).</summary>
public sealed record ServiceHealthTopic(string Service) : SubscriptionTopic
{
    public override IEnumerable<SubscribeChange> Snapshot(StateVersion state) =>
        state.HealthService(Service).Result.Select(i => Upsert(i));

    public override IEnumerable<SubscribeChange> Changes(StateVersion? before, StateVersion after, IEnumerable<StateEvent> events)
    {
        // A node's or a check's change touches every instance on that node; a service's, itself.
        var nodes = new SortedSet<string>(StringComparer.Ordinal);
        var services = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            switch (e.Topic)
            {
                case Tables.Nodes:
                    nodes.Add(e.Key);
                    break;
                case Tables.Checks:
                    nodes.Add(NodeOf(e.Key));
                    break;
                case Tables.Services:
                    services.Add(e.Key);
                    break;
            }
        }

        var sent = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in services)
        {
            var isOurs = after.Services.TryGet(key, out var service) && Matches(service);
            if (isOurs && after.Nodes.TryGet(NodeOf(key), out var node))
            {
                sent.Add(key);
                yield return Upsert(after.Instance(node, service));
            }
            else if (before is null || (before.Services.TryGet(key, out var old) && Matches(old)))
            {
                // Gone, renamed away, or (resumed, so unknown) perhaps never ours: the reader drops it.
                sent.Add(key);
                yield return new SubscribeChange { InstanceDelete = new InstanceKey { Node = NodeOf(key), ServiceId = key[(key.IndexOf(StateVersion.Sep) + 1)..] } };
            }
        }

        foreach (var nodeKey in nodes)
        {
            foreach (var instance in after.InstancesOn(Service, nodeKey))
            {
                if (sent.Add(StateVersion.Key(nodeKey, instance.Service.Id)))
                {
                    yield return Upsert(instance);
                }
            }
        }
    }

    private bool Matches(Service service) => string.Equals(service.Name, Service, StringComparison.OrdinalIgnoreCase);

    private static string NodeOf(string key) => key[..key.IndexOf(StateVersion.Sep)];

    private static SubscribeChange Upsert(ServiceInstance instance) => new()
    {
        InstanceUpsert = new CatalogInstance { Node = instance.Node, Service = instance.Service, Checks = { instance.Checks } },
    };
}

/// <summary>Config entries of one kind, or one entry (kind and name).</summary>
public sealed record ConfigTopic(string Kind, string? Name) : SubscriptionTopic
{
    private string Prefix => Name is null ? Kind + StateVersion.Sep : StateVersion.Key(Kind, Name);

    public override IEnumerable<SubscribeChange> Snapshot(StateVersion state) =>
        state.Config.PrefixWatch(Prefix).Entries
            .Where(e => Name is null || e.Key == Prefix)
            .Select(e => new SubscribeChange { ConfigUpsert = e.Value });

    public override IEnumerable<SubscribeChange> Changes(StateVersion? before, StateVersion after, IEnumerable<StateEvent> events) =>
        KeyedChanges(
            events,
            Tables.Config,
            key => Name is null ? key.StartsWith(Prefix, StringComparison.Ordinal) : key == Prefix,
            after.Config,
            before?.Config,
            entry => new SubscribeChange { ConfigUpsert = entry },
            key =>
            {
                var cut = key.IndexOf(StateVersion.Sep);
                return new SubscribeChange { ConfigDelete = new ConfigKey { Kind = key[..cut], Name = key[(cut + 1)..] } };
            });
}
