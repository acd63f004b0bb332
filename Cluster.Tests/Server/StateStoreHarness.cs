using Cluster.Server.State;
using Cluster.Contracts.State;
using Google.Protobuf;

namespace Cluster.Tests.Server;

/// <summary>
/// A store and the Raft index it is at: each helper applies one command at the next index with
/// the harness's clock (<see cref="Now"/>, Unix ms), so tests read like a sequence of writes.
/// </summary>
public sealed class StateStoreHarness(int retainedBatches = EventFeed.DefaultRetained)
{
    public StateStore Store { get; } = new(retainedBatches);

    public ulong Index { get; private set; }

    public long Now { get; set; } = 1_700_000_000_000;

    public StateVersion State => Store.Current;

    public CommandResult Apply(Command command)
    {
        command.UnixMs = command.UnixMs == 0 ? Now : command.UnixMs;
        return Store.Apply(++Index, command);
    }

    public void Skip() => Store.Skip(++Index);

    public CommandResult Kv(KvOp op) => Apply(new Command { Kv = op });

    public CommandResult Set(string key, string value = "v", ulong flags = 0) => Kv(Op(KvOp.Types.Verb.Set, key, value, flags: flags));

    public CommandResult Cas(string key, ulong index, string value = "v") => Kv(Op(KvOp.Types.Verb.Cas, key, value, index: index));

    public CommandResult Delete(string key) => Kv(Op(KvOp.Types.Verb.Delete, key));

    public CommandResult DeleteCas(string key, ulong index) => Kv(Op(KvOp.Types.Verb.DeleteCas, key, index: index));

    public CommandResult DeleteTree(string prefix) => Kv(Op(KvOp.Types.Verb.DeleteTree, prefix));

    public CommandResult Lock(string key, string session, string value = "v") => Kv(Op(KvOp.Types.Verb.Lock, key, value, session: session));

    public CommandResult Unlock(string key, string session, string value = "v") => Kv(Op(KvOp.Types.Verb.Unlock, key, value, session: session));

    public CommandResult Txn(params KvOp[] ops)
    {
        var txn = new Txn();
        txn.Ops.AddRange(ops);
        return Apply(new Command { Txn = txn });
    }

    public CommandResult Reap(ulong upTo) => Apply(new Command { Reap = new ReapTombstones { UpTo = upTo } });

    public CommandResult RegisterNode(string name, string address = "10.0.0.1", IDictionary<string, string>? meta = null)
    {
        var node = new Node { Name = name, Address = address, Datacenter = "dc1" };
        if (meta is not null)
        {
            node.Meta.Add(meta);
        }

        return Apply(new Command { Register = new Register { Node = node } });
    }

    public CommandResult RegisterService(string node, string id, string name, params string[] tags)
    {
        var service = new Service { Id = id, Name = name, Port = 8080 };
        service.Tags.AddRange(tags);
        return Apply(new Command { Register = new Register { Node = new Node { Name = node }, SkipNodeUpdate = true, Service = service } });
    }

    public CommandResult RegisterCheck(string node, string id, string status, string serviceId = "")
    {
        var register = new Register { Node = new Node { Name = node }, SkipNodeUpdate = true };
        register.Checks.Add(new Check { Id = id, Name = id, Status = status, ServiceId = serviceId });
        return Apply(new Command { Register = register });
    }

    public CommandResult Deregister(string node, string serviceId = "", string checkId = "") =>
        Apply(new Command { Deregister = new Deregister { Node = node, ServiceId = serviceId, CheckId = checkId } });

    public CommandResult CreateSession(string id, string node, string behavior = "release", long lockDelayMs = 0, params string[] nodeChecks)
    {
        var session = new Session { Id = id, Node = node, Behavior = behavior, LockDelayNs = lockDelayMs * 1_000_000 };
        session.NodeChecks.AddRange(nodeChecks);
        return Apply(new Command { Session = new SessionOp { Verb = SessionOp.Types.Verb.Create, Session = session } });
    }

    public CommandResult DestroySession(string id) =>
        Apply(new Command { Session = new SessionOp { Verb = SessionOp.Types.Verb.Destroy, Session = new Session { Id = id } } });

    public CommandResult Config(ConfigOp.Types.Verb verb, string kind, string name, string json = "{}", ulong index = 0) =>
        Apply(new Command { Config = new ConfigOp { Verb = verb, Entry = new ConfigEntry { Kind = kind, Name = name, Json = json }, Index = index } });

    public KvEntry Get(string key) => State.KvGet(key).Result ?? throw new InvalidOperationException($"no key {key}");

    public static KvOp Op(KvOp.Types.Verb verb, string key, string? value = null, ulong index = 0, string session = "", ulong flags = 0) => new()
    {
        Verb = verb,
        Key = key,
        Value = value is null ? ByteString.Empty : ByteString.CopyFromUtf8(value),
        Index = index,
        Session = session,
        Flags = flags,
    };

    /// <summary>Everything a snapshot holds, as a message (protobuf equality compares maps as maps).</summary>
    public static Snapshot Capture(StateStore store)
    {
        using var stream = new MemoryStream();
        store.WriteSnapshot(stream);
        return Snapshot.Parser.ParseFrom(stream.ToArray());
    }

    public static byte[] SnapshotBytes(StateStore store)
    {
        using var stream = new MemoryStream();
        store.WriteSnapshot(stream);
        return stream.ToArray();
    }

    /// <summary>The state as of <paramref name="store"/> with its index set aside: what "changed nothing but the index" compares.</summary>
    public static Snapshot WithoutIndex(StateStore store)
    {
        var snapshot = Capture(store);
        snapshot.Index = 0;
        return snapshot;
    }

    /// <summary>Nothing but the index moved from <paramref name="before"/> to <paramref name="after"/>: the very same trees.</summary>
    public static void AssertUnchanged(StateVersion before, StateVersion after)
    {
        Assert.Same(before.Kvs, after.Kvs);
        Assert.Same(before.Tombstones, after.Tombstones);
        Assert.Same(before.Nodes, after.Nodes);
        Assert.Same(before.Services, after.Services);
        Assert.Same(before.ServicesByName, after.ServicesByName);
        Assert.Same(before.Checks, after.Checks);
        Assert.Same(before.ChecksByService, after.ChecksByService);
        Assert.Same(before.Sessions, after.Sessions);
        Assert.Same(before.SessionsByNode, after.SessionsByNode);
        Assert.Same(before.Config, after.Config);
        Assert.Equal(before.TableIndexes.OrderBy(e => e.Key, StringComparer.Ordinal), after.TableIndexes.OrderBy(e => e.Key, StringComparer.Ordinal));
        Assert.Equal(before.LockDelays.OrderBy(e => e.Key, StringComparer.Ordinal), after.LockDelays.OrderBy(e => e.Key, StringComparer.Ordinal));
    }

    /// <summary>Whether a batch was published after <paramref name="before"/>.</summary>
    public static EventBatch? NextBatch(EventBatch before) => before.Next.IsCompleted ? before.Next.Result : null;
}
