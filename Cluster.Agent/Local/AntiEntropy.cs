using Cluster.Contracts.State;
using Google.Protobuf;
using Cluster.Server.Leader;

namespace Cluster.Agent.Local;

/// <summary>The agent's node as anti-entropy registers it.</summary>
public sealed record SyncNode(string Name, string Id, string Datacenter, string Address, bool IsServer);

/// <summary>One of the agent's entries as anti-entropy sees it: its value, whether the catalog has it so, whether it is to be removed.</summary>
public sealed record SyncEntry<T>(T Value, bool InSync, bool Deleted)
    where T : class;

/// <summary>What a full sync decides for one entry.</summary>
public enum SyncMark
{
    /// <summary>The catalog has it as the agent does.</summary>
    InSync,

    /// <summary>The catalog lacks it or has it otherwise: register it again.</summary>
    OutOfSync,

    /// <summary>The catalog has an entry the agent does not know: deregister it.</summary>
    RemoveRemote,

    /// <summary>A removal the catalog has already seen: forget it.</summary>
    Forget,
}

/// <summary>A full sync's findings: the node's entry, and a mark for every entry that changes.</summary>
public sealed record SyncMarks(bool NodeInSync, IReadOnlyDictionary<string, SyncMark> Services, IReadOnlyDictionary<string, SyncMark> Checks);

/// <summary>One catalog write and the entries it brings in sync once applied.</summary>
public sealed record SyncWrite(Command Command, IReadOnlyList<string> Services, IReadOnlyList<string> Checks);

/// <summary>
/// The writes that bring the catalog in line with the agent, in the order they go: the node,
/// then removals (services, then checks), then services each with all its checks, then the
/// checks left over. The writes within a step are independent and may go at once.
/// </summary>
public sealed record SyncPlan(
    SyncWrite? Node,
    IReadOnlyList<SyncWrite> ServiceRemovals,
    IReadOnlyList<SyncWrite> CheckRemovals,
    IReadOnlyList<SyncWrite> Services,
    IReadOnlyList<SyncWrite> Checks)
{
    public IEnumerable<IReadOnlyList<SyncWrite>> Steps => [Node is null ? [] : [Node], ServiceRemovals, CheckRemovals, Services, Checks];

    public bool IsEmpty => Steps.All(s => s.Count == 0);
}

/// <summary>
/// Anti-entropy's decisions, as pure functions (Consul's agent/ae and local state sync): compare
/// the agent's entries with the catalog's view of its node, and plan the writes for whatever is
/// out of sync. <c>LocalAgent.Sync.cs</c> is the loop that reads, writes and applies them.
/// </summary>
public static class AntiEntropy
{
    public static SyncMarks Compare(
        SyncNode self,
        IReadOnlyDictionary<string, SyncEntry<Service>> services,
        IReadOnlyDictionary<string, SyncEntry<Check>> checks,
        NodeStateReply remote)
    {
        ArgumentNullException.ThrowIfNull(self);
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(checks);
        ArgumentNullException.ThrowIfNull(remote);
        var nodeInSync = remote.Node is { } node && node.Address == self.Address && node.Id == self.Id;
        var remoteServices = remote.Services
            .Where(s => !(self.IsServer && s.Id == CatalogReconcile.ServerService)) // the leader registers it
            .ToDictionary(s => s.Id, StringComparer.Ordinal);
        var remoteChecks = remote.Checks
            .Where(c => c.Id != CatalogReconcile.SerfCheckId) // the leader owns it
            .ToDictionary(c => c.Id, StringComparer.Ordinal);
        return new(
            nodeInSync,
            Marks(services, remoteServices, (a, b) => SameService(self.Name, a, b)),
            Marks(checks, remoteChecks, (a, b) => SameCheck(self.Name, a, b)));
    }

    public static SyncPlan Plan(
        SyncNode self,
        bool nodeInSync,
        IReadOnlyDictionary<string, SyncEntry<Service>> services,
        IReadOnlyDictionary<string, SyncEntry<Check>> checks)
    {
        ArgumentNullException.ThrowIfNull(self);
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(checks);
        var node = nodeInSync ? null : new SyncWrite(new Command { Register = NewRegister(self, skipNode: false) }, [], []);
        var serviceRemovals = services
            .Where(s => !s.Value.InSync && s.Value.Deleted)
            .OrderBy(s => s.Key, StringComparer.Ordinal)
            .Select(s => new SyncWrite(new Command { Deregister = new Deregister { Node = self.Name, ServiceId = s.Key } }, [s.Key], []))
            .ToList();
        var checkRemovals = checks
            .Where(c => !c.Value.InSync && c.Value.Deleted)
            .OrderBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => new SyncWrite(new Command { Deregister = new Deregister { Node = self.Name, CheckId = c.Key } }, [], [c.Key]))
            .ToList();

        // A service goes with all its checks, so the catalog never shows it without them.
        var registered = new List<SyncWrite>();
        var covered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (id, entry) in services.Where(s => !s.Value.InSync && !s.Value.Deleted).OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var register = NewRegister(self, skipNode: true);
            register.Service = entry.Value.Clone();
            var own = checks.Where(c => !c.Value.Deleted && c.Value.Value.ServiceId == id).OrderBy(c => c.Key, StringComparer.Ordinal).ToList();
            register.Checks.Add(own.Select(c => c.Value.Value.Clone()));
            covered.UnionWith(own.Select(c => c.Key));
            registered.Add(new SyncWrite(new Command { Register = register }, [id], [.. own.Select(c => c.Key)]));
        }

        var lone = checks
            .Where(c => !c.Value.InSync && !c.Value.Deleted && !covered.Contains(c.Key))
            .OrderBy(c => c.Key, StringComparer.Ordinal)
            .Select(c =>
            {
                var register = NewRegister(self, skipNode: true);
                register.Checks.Add(c.Value.Value.Clone());
                return new SyncWrite(new Command { Register = register }, [], [c.Key]);
            })
            .ToList();
        return new(node, serviceRemovals, checkRemovals, registered, lone);
    }

    /// <summary>Whether the catalog's service is the agent's (indexes and the node field aside).</summary>
    public static bool SameService(string node, Service local, Service remote) =>
        SameApartFrom(local, remote, s =>
        {
            s.Node = node;
            s.CreateIndex = s.ModifyIndex = 0;
        });

    /// <summary>Whether the catalog's check is the agent's (indexes, the node field and the copied service tags aside).</summary>
    public static bool SameCheck(string node, Check local, Check remote) =>
        SameApartFrom(local, remote, c =>
        {
            c.Node = node;
            c.CreateIndex = c.ModifyIndex = 0;
            c.ServiceTags.Clear();
        });

    /// <summary>Equality of copies of both after <paramref name="ignore"/> has levelled what the comparison leaves out.</summary>
    private static bool SameApartFrom<T>(T local, T remote, Action<T> ignore)
        where T : IMessage<T>, IDeepCloneable<T>
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(remote);
        var a = local.Clone();
        var b = remote.Clone();
        ignore(a);
        ignore(b);
        return a.Equals(b);
    }

    private static Dictionary<string, SyncMark> Marks<T>(
        IReadOnlyDictionary<string, SyncEntry<T>> local,
        Dictionary<string, T> remote,
        Func<T, T, bool> same)
        where T : class
    {
        var marks = new Dictionary<string, SyncMark>(StringComparer.Ordinal);
        foreach (var (id, value) in remote)
        {
            if (!local.TryGetValue(id, out var entry))
            {
                marks[id] = SyncMark.RemoveRemote;
            }
            else if (!entry.Deleted)
            {
                marks[id] = same(entry.Value, value) ? SyncMark.InSync : SyncMark.OutOfSync;
            }
        }

        foreach (var (id, entry) in local)
        {
            if (!remote.ContainsKey(id))
            {
                marks[id] = entry.Deleted ? SyncMark.Forget : SyncMark.OutOfSync;
            }
        }

        return marks;
    }

    private static Register NewRegister(SyncNode self, bool skipNode)
    {
        var node = new Node { Id = self.Id, Name = self.Name, Address = self.Address, Datacenter = self.Datacenter };
        node.TaggedAddresses["lan"] = self.Address;
        node.TaggedAddresses["wan"] = self.Address;
        return new Register { Node = node, SkipNodeUpdate = skipNode };
    }
}
