using Cluster.Contracts.State;

namespace Cluster.Server.State;

/// <summary>A command the store will not apply (bad input, a missing node or session): nothing of it is applied.</summary>
public sealed class StateRefusedException(string message) : Exception(message);

/// <summary>
/// Builds the next <see cref="StateVersion"/> from one command at one Raft index. Every table
/// write goes through a <see cref="TableWriter{T}"/> so reads inside the command see earlier
/// writes of the same command; nothing is visible (and no watch fires) until
/// <see cref="Commit"/>, so a command that throws leaves the state exactly as it was.
/// </summary>
public sealed partial class StateWriter
{
    private readonly StateVersion _from;
    private readonly List<StateEvent> _events = [];
    private readonly TableWriter<KvEntry> _kvs;
    private readonly TableWriter<ulong> _tombstones;
    private readonly TableWriter<Node> _nodes;
    private readonly TableWriter<Service> _services;
    private readonly TableWriter<Service> _servicesByName;
    private readonly TableWriter<Check> _checks;
    private readonly TableWriter<Check> _checksByService;
    private readonly TableWriter<Session> _sessions;
    private readonly TableWriter<Session> _sessionsByNode;
    private readonly TableWriter<ConfigEntry> _config;
    private readonly TableWriter<CaState> _ca;
    private Dictionary<string, long>? _lockDelays;

    public StateWriter(StateVersion from, ulong index, long unixMs)
    {
        ArgumentNullException.ThrowIfNull(from);
        _from = from;
        Index = index;
        UnixMs = unixMs;
        _kvs = new(from.Kvs, Tables.Kvs, _events, index);
        _tombstones = new(from.Tombstones, Tables.Tombstones, _events, index);
        _nodes = new(from.Nodes, Tables.Nodes, _events, index);
        _services = new(from.Services, Tables.Services, _events, index);
        _servicesByName = new(from.ServicesByName, Tables.Services, _events, index);
        _checks = new(from.Checks, Tables.Checks, _events, index);
        _checksByService = new(from.ChecksByService, Tables.Checks, _events, index);
        _sessions = new(from.Sessions, Tables.Sessions, _events, index);
        _sessionsByNode = new(from.SessionsByNode, Tables.Sessions, _events, index);
        _config = new(from.Config, Tables.Config, _events, index);
        _ca = new(from.Ca, Tables.Ca, _events, index);
    }

    public ulong Index { get; }

    public long UnixMs { get; }

    public IReadOnlyList<StateEvent> Events => _events;

    /// <summary>The new version (watches of replaced entries fire now); tables written get this index.</summary>
    public StateVersion Commit()
    {
        var indexes = _from.TableIndexes.ToBuilder();
        void Mark(string table, bool changed)
        {
            if (changed)
            {
                indexes[table] = Index;
            }
        }

        Mark(Tables.Kvs, _kvs.Changed);
        Mark(Tables.Tombstones, _tombstones.Changed);
        Mark(Tables.Nodes, _nodes.Changed);
        Mark(Tables.Services, _services.Changed);
        Mark(Tables.Checks, _checks.Changed);
        Mark(Tables.Sessions, _sessions.Changed);
        Mark(Tables.Config, _config.Changed);
        Mark(Tables.Ca, _ca.Changed);
        var lockDelays = _from.LockDelays;
        if (_lockDelays is not null)
        {
            // Prune the expired delays before adding this command's: pruned after, a key whose old
            // delay had expired lost the new delay set on it just now.
            lockDelays = lockDelays.RemoveRange(lockDelays.Where(d => d.Value <= UnixMs).Select(d => d.Key)).SetItems(_lockDelays);
        }

        return _from with
        {
            Index = Index,
            Kvs = _kvs.Commit(),
            Tombstones = _tombstones.Commit(),
            Nodes = _nodes.Commit(),
            Services = _services.Commit(),
            ServicesByName = _servicesByName.Commit(),
            Checks = _checks.Commit(),
            ChecksByService = _checksByService.Commit(),
            Sessions = _sessions.Commit(),
            SessionsByNode = _sessionsByNode.Commit(),
            Config = _config.Commit(),
            Ca = _ca.Commit(),
            TableIndexes = indexes.ToImmutable(),
            FeedIndex = _events.Count > 0 ? Index : _from.FeedIndex, // this command's batch follows it onto the feed
            LockDelays = lockDelays,
        };
    }

    public void ReapTombstones(ulong upTo)
    {
        foreach (var (key, index) in _tombstones.List(""))
        {
            if (index <= upTo)
            {
                _tombstones.Delete(key, announce: false);
            }
        }
    }

    private static StateRefusedException Refused(string message) => new(message);
}
