using System.Collections.Immutable;
using Cluster.Contracts.State;
using Google.Protobuf;
using Cluster.Primitives;

namespace Cluster.Server.State;

/// <summary>
/// The server's state: the current <see cref="StateVersion"/> (readers take it and keep it), a
/// single writer (the FSM, on Raft's loop) that applies one command at one index all or nothing,
/// the event stream, and snapshot/restore. Reads never lock.
/// </summary>
public sealed class StateStore
{
    // A version of its own, never a shared static one: an empty tree's root watch is what a read
    // of that empty table waits on, so stores sharing one would wake each other's readers, and
    // once any of them had written there every read of an empty table would return a fired watch.
    private StateVersion _current = new();
    private readonly ChangeSignal _applied = new();

    public StateVersion Current => Volatile.Read(ref _current);

    public StateStore(int retainedBatches = EventFeed.DefaultRetained)
    {
        Events = new EventFeed(retainedBatches);
    }

    /// <summary>The change feed: one batch for every version this store makes current, in index order.</summary>
    public EventFeed Events { get; }

    /// <summary>Completes when the next command has been applied (take it before looking at <see cref="Current"/>).</summary>
    public Task Applied => _applied.Next;

    /// <summary>Applies a command at <paramref name="index"/>. A refused command or failed transaction changes nothing except the index.</summary>
    public CommandResult Apply(ulong index, Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var writer = new StateWriter(Current, index, command.UnixMs);
        CommandResult result;
        try
        {
            result = Execute(writer, command);
        }
        catch (StateRefusedException refused)
        {
            result = new CommandResult { Ok = false, Refused = refused.Message };
        }

        var commit = result.Errors.Count == 0 && result.Refused.Length == 0;
        Publish(commit ? writer.Commit() : Current with { Index = index }, commit ? writer.Events : []);
        return result;
    }

    /// <summary>Advances the index for a log entry that carries no command (a configuration change, a leader's no-op).</summary>
    public void Skip(ulong index) => Publish(Current with { Index = index }, []);

    public void WriteSnapshot(Stream destination)
    {
        var state = Current;
        var snapshot = new Snapshot { Index = state.Index };
        snapshot.Nodes.AddRange(state.Nodes.PrefixWatch("").Entries.Select(e => e.Value));
        snapshot.Services.AddRange(state.Services.PrefixWatch("").Entries.Select(e => e.Value));
        snapshot.Checks.AddRange(state.Checks.PrefixWatch("").Entries.Select(e => e.Value));
        snapshot.Kvs.AddRange(state.Kvs.PrefixWatch("").Entries.Select(e => e.Value));
        snapshot.Tombstones.AddRange(state.Tombstones.PrefixWatch("").Entries.Select(e => new Tombstone { Key = e.Key, Index = e.Value }));
        snapshot.Sessions.AddRange(state.Sessions.PrefixWatch("").Entries.Select(e => e.Value));
        snapshot.Config.AddRange(state.Config.PrefixWatch("").Entries.Select(e => e.Value));
        snapshot.TableIndexes.Add(state.TableIndexes);
        if (state.Ca.TryGet(StateVersion.CaKey, out var ca))
        {
            snapshot.Ca = ca;
        }

        snapshot.WriteTo(destination);
    }

    /// <summary>Replaces the whole state; every watch of the old state fires, so blocked readers re-read.</summary>
    public void Restore(ReadOnlySpan<byte> bytes)
    {
        var snapshot = Snapshot.Parser.ParseFrom(bytes);
        var nodes = new RadixTree<Node>().Write();
        foreach (var node in snapshot.Nodes)
        {
            nodes.Set(StateVersion.Lower(node.Name), node);
        }

        var services = new RadixTree<Service>().Write();
        var servicesByName = new RadixTree<Service>().Write();
        foreach (var service in snapshot.Services)
        {
            var nodeKey = StateVersion.Lower(service.Node);
            services.Set(StateVersion.Key(nodeKey, service.Id), service);
            servicesByName.Set(StateVersion.Key(StateVersion.Lower(service.Name), nodeKey, service.Id), service);
        }

        var checks = new RadixTree<Check>().Write();
        var checksByService = new RadixTree<Check>().Write();
        foreach (var check in snapshot.Checks)
        {
            var nodeKey = StateVersion.Lower(check.Node);
            checks.Set(StateVersion.Key(nodeKey, check.Id), check);
            if (check.ServiceName.Length > 0)
            {
                checksByService.Set(StateVersion.Key(StateVersion.Lower(check.ServiceName), nodeKey, check.Id), check);
            }
        }

        var kvs = new RadixTree<KvEntry>().Write();
        foreach (var entry in snapshot.Kvs)
        {
            kvs.Set(entry.Key, entry);
        }

        var tombstones = new RadixTree<ulong>().Write();
        foreach (var tombstone in snapshot.Tombstones)
        {
            tombstones.Set(tombstone.Key, tombstone.Index);
        }

        var sessions = new RadixTree<Session>().Write();
        var sessionsByNode = new RadixTree<Session>().Write();
        foreach (var session in snapshot.Sessions)
        {
            sessions.Set(session.Id, session);
            sessionsByNode.Set(StateVersion.Key(StateVersion.Lower(session.Node), session.Id), session);
        }

        var config = new RadixTree<ConfigEntry>().Write();
        foreach (var entry in snapshot.Config)
        {
            config.Set(StateVersion.Key(entry.Kind, entry.Name), entry);
        }

        var caTree = new RadixTree<CaState>().Write();
        if (snapshot.Ca is not null)
        {
            caTree.Set(StateVersion.CaKey, snapshot.Ca);
        }

        var old = Current;
        var restored = new StateVersion
        {
            Index = snapshot.Index,
            Nodes = nodes.Commit(),
            Services = services.Commit(),
            ServicesByName = servicesByName.Commit(),
            Checks = checks.Commit(),
            ChecksByService = checksByService.Commit(),
            Kvs = kvs.Commit(),
            Tombstones = tombstones.Commit(),
            Sessions = sessions.Commit(),
            SessionsByNode = sessionsByNode.Commit(),
            Config = config.Commit(),
            Ca = caTree.Commit(),
            TableIndexes = snapshot.TableIndexes.ToImmutableDictionary(),
            FeedIndex = snapshot.Index,
        };
        Volatile.Write(ref _current, restored);
        FireAll(old);
        Events.PublishRestore(snapshot.Index);
        _applied.Fire();
    }

    /// <summary>A restore replaces every tree wholesale; waking every reader of the old one is what a replaced root means.</summary>
    private static void FireAll(StateVersion old)
    {
        old.Kvs.FireAll();
        old.Tombstones.FireAll();
        old.Nodes.FireAll();
        old.Services.FireAll();
        old.ServicesByName.FireAll();
        old.Checks.FireAll();
        old.ChecksByService.FireAll();
        old.Sessions.FireAll();
        old.SessionsByNode.FireAll();
        old.Config.FireAll();
        old.Ca.FireAll();
    }

    private void Publish(StateVersion next, IReadOnlyList<StateEvent> events)
    {
        // A version names the last batch of events it includes (StateVersion.FeedIndex), published
        // right after it becomes current: a subscriber that reads Current can count on it arriving.
        Volatile.Write(ref _current, next);
        if (events.Count > 0)
        {
            Events.Publish(next.Index, events);
        }

        _applied.Fire();
    }

    private static CommandResult Execute(StateWriter writer, Command command)
    {
        switch (command.OpCase)
        {
            case Command.OpOneofCase.Register:
                writer.Register(command.Register);
                return new CommandResult { Ok = true };
            case Command.OpOneofCase.Deregister:
                writer.Deregister(command.Deregister);
                return new CommandResult { Ok = true };
            case Command.OpOneofCase.Kv:
            {
                var (ok, _, _) = writer.Kv(command.Kv);
                return new CommandResult { Ok = ok };
            }

            // A command comes off the wire: a create without its session is refused (it threw
            // ArgumentNullException out of the FSM), and an unknown verb is no destroy.
            case Command.OpOneofCase.Session when command.Session.Verb == SessionOp.Types.Verb.Create:
                writer.CreateSession(command.Session.Session ?? throw new StateRefusedException("Missing session"));
                return new CommandResult { Ok = true };
            case Command.OpOneofCase.Session when command.Session.Verb == SessionOp.Types.Verb.Destroy:
                return new CommandResult { Ok = writer.DestroySession(command.Session.Session?.Id ?? "") };
            case Command.OpOneofCase.Session:
                throw new StateRefusedException($"unknown session verb {command.Session.Verb}");
            case Command.OpOneofCase.Config:
                return new CommandResult { Ok = writer.Config(command.Config) };
            case Command.OpOneofCase.Txn:
                return Transaction(writer, command.Txn);
            case Command.OpOneofCase.Ca:
                return new CommandResult { Ok = writer.SetCa(command.Ca) };
            case Command.OpOneofCase.Reap:
                writer.ReapTombstones(command.Reap.UpTo);
                return new CommandResult { Ok = true };
            default:
                throw new StateRefusedException("empty command");
        }
    }

    /// <summary>Consul's /v1/txn: every operation or none; results in order, errors name the operation.</summary>
    private static CommandResult Transaction(StateWriter writer, Txn txn)
    {
        var result = new CommandResult();
        for (var i = 0; i < txn.Ops.Count; i++)
        {
            var op = txn.Ops[i];
            try
            {
                if (op.Verb == KvOp.Types.Verb.GetTree)
                {
                    result.Results.AddRange(writer.KvTree(op.Key));
                    continue;
                }

                var (ok, entry, why) = writer.Kv(op);
                if (!ok)
                {
                    result.Errors.Add(new TxnError { OpIndex = i, What = why ?? "operation failed" });
                    continue;
                }

                if (entry is not null)
                {
                    var shown = entry.Clone();
                    if (op.Verb != KvOp.Types.Verb.Get)
                    {
                        shown.Value = ByteString.Empty; // only a get answers with the value; writes and checks with the metadata, as Consul's txnKVS
                    }

                    result.Results.Add(shown);
                }
            }
            catch (StateRefusedException refused)
            {
                result.Errors.Add(new TxnError { OpIndex = i, What = refused.Message });
            }
        }

        if (result.Errors.Count > 0)
        {
            result.Results.Clear();
            return result;
        }

        result.Ok = true;
        return result;
    }
}
