using Cluster.Server.State;
using Cluster.Contracts.State;
using Google.Protobuf;
using Verb = Cluster.Contracts.State.KvOp.Types.Verb;

namespace Cluster.Tests.Server;

/// <summary>
/// Seeded random KV commands and transactions (with sessions coming and going, lock delays and
/// tombstone reaping) applied to the store and to a plain sorted-dictionary model of Consul's
/// semantics, compared after every command; snapshots are restored into fresh stores along the
/// way, and now and then the store itself is rolled back to an earlier snapshot.
/// </summary>
public sealed class StateStoreModelTests
{
    private const string Node = "n1";
    private static readonly string[] Segments = ["a", "b", "ab", "/", "a/", "ba"];
    private static readonly string[] SessionIds = ["s1", "s2", "s3"];
    private static readonly Verb[] Verbs =
    [
        Verb.Set, Verb.Set, Verb.Set, Verb.Cas, Verb.Cas, Verb.Delete, Verb.Delete, Verb.DeleteCas, Verb.DeleteTree,
        Verb.Lock, Verb.Lock, Verb.Lock, Verb.Unlock, Verb.Unlock, Verb.Get, Verb.CheckIndex, Verb.CheckSession, Verb.CheckNotExists, Verb.GetTree,
    ];

    [Theory]
    [InlineData(1)]
    [InlineData(20240607)]
    [InlineData(977)]
    public void Random_kv_commands_match_a_dictionary_model_through_snapshots_and_restores(int seed)
    {
        var random = new Random(seed);
        var h = new StateStoreHarness();
        h.RegisterNode(Node);
        var model = new Model();
        (byte[] Bytes, Model Model)? saved = null;
        for (var step = 0; step < 2500; step++)
        {
            h.Now += random.Next(0, 1500);
            var command = RandomCommand(random, model, h.Index);
            var batch = h.Store.Events.Latest;
            try
            {
                var result = h.Apply(command.Clone());
                var expected = model.Apply(command, h.Index, h.Now);
                Assert.Equal(expected.Ok, result.Ok);
                Assert.Equal(expected.Refused, result.Refused.Length > 0);
                Assert.Equal(expected.Errors, result.Errors.Select(e => e.OpIndex));
                Assert.All(result.Errors, e => Assert.NotEmpty(e.What));
                Assert.Equal(expected.Results, result.Results);
                var published = StateStoreHarness.NextBatch(batch);
                if (expected.Events.Count == 0)
                {
                    Assert.Null(published);
                }
                else
                {
                    Assert.NotNull(published);
                    Assert.Equal(h.Index, published.Index);
                    Assert.Equal(expected.Events, published.Events);
                    Assert.Null(StateStoreHarness.NextBatch(published));
                }

                AssertMatches(model, h.State, h.Index, h.Now, random);
            }
            catch (Exception e) when (e is not StepFailedException)
            {
                throw new StepFailedException($"seed {seed}, step {step}, index {h.Index}, command {command}: {e.Message}", e);
            }

            if (random.Next(60) == 0)
            {
                // A restore into a fresh store answers exactly as the store does.
                var bytes = StateStoreHarness.SnapshotBytes(h.Store);
                var restored = new StateStore();
                restored.Restore(bytes);
                Assert.Equal(StateStoreHarness.Capture(h.Store), StateStoreHarness.Capture(restored));
                StateStoreSnapshotTests.AssertSameState(h.State, restored.Current);
                if (saved is null || random.Next(3) == 0)
                {
                    saved = (bytes, model.Clone());
                }
            }

            if (saved is { } back && random.Next(250) == 0)
            {
                // Roll the store back to an earlier snapshot (lock delays are not in snapshots) and carry on from there.
                h.Store.Restore(back.Bytes);
                model = back.Model.Clone();
                model.LockDelays.Clear();
                AssertMatches(model, h.State, h.State.Index, h.Now, random);
            }
        }
    }

    private static Command RandomCommand(Random random, Model model, ulong index)
    {
        var roll = random.Next(100);
        if (roll < 4)
        {
            var id = SessionIds[random.Next(SessionIds.Length)];
            if (model.Sessions.ContainsKey(id))
            {
                return new Command { Session = new SessionOp { Verb = SessionOp.Types.Verb.Destroy, Session = new Session { Id = id } } };
            }

            var (behavior, delayMs) = SessionKind(id);
            return new Command
            {
                Session = new SessionOp
                {
                    Verb = SessionOp.Types.Verb.Create,
                    Session = new Session { Id = id, Node = Node, Behavior = behavior, LockDelayNs = delayMs * 1_000_000 },
                },
            };
        }

        if (roll < 6)
        {
            return new Command { Reap = new ReapTombstones { UpTo = (ulong)random.NextInt64(0, (long)index + 1) } };
        }

        if (roll < 30)
        {
            var txn = new Txn();
            for (var n = random.Next(0, 5); n > 0; n--)
            {
                txn.Ops.Add(RandomOp(random, model, index, Verbs[random.Next(Verbs.Length)]));
            }

            return new Command { Txn = txn };
        }

        return new Command { Kv = RandomOp(random, model, index, Verbs[random.Next(Verbs.Length)]) };
    }

    private static (string Behavior, long DelayMs) SessionKind(string id) => id switch
    {
        "s1" => ("release", 4_000),
        "s2" => ("delete", 2_500),
        _ => ("release", 0),
    };

    private static KvOp RandomOp(Random random, Model model, ulong index, Verb verb)
    {
        var tree = verb is Verb.DeleteTree or Verb.GetTree;
        var key = random.Next(80) == 0 ? "" : RandomKey(random, tree ? random.Next(0, 3) : random.Next(1, 4));
        if (verb == Verb.DeleteTree && key.Length == 0 && random.Next(4) != 0)
        {
            key = Segments[random.Next(Segments.Length)]; // an empty prefix wipes everything: keep it rare
        }

        model.Kvs.TryGetValue(key, out var existing);
        var casIndex = random.Next(4) switch
        {
            0 => 0UL,
            1 => (ulong)random.NextInt64(1, (long)index + 2),
            _ => existing?.ModifyIndex ?? (ulong)random.NextInt64(0, (long)index + 2),
        };
        var session = random.Next(10) switch
        {
            0 => "ghost",
            1 => "",
            _ => SessionIds[random.Next(SessionIds.Length)],
        };
        if (verb is Verb.Unlock or Verb.CheckSession && existing is { Session.Length: > 0 } && random.Next(2) == 0)
        {
            session = existing.Session;
        }

        return new KvOp
        {
            Verb = verb,
            Key = key,
            Value = random.Next(5) == 0 ? ByteString.Empty : ByteString.CopyFromUtf8($"v{random.Next(1000)}"),
            Flags = (ulong)random.Next(0, 3),
            Index = casIndex,
            Session = session,
        };
    }

    private static string RandomKey(Random random, int segments) =>
        string.Concat(Enumerable.Range(0, segments).Select(_ => Segments[random.Next(Segments.Length)]));

    private static void AssertMatches(Model model, StateVersion state, ulong index, long now, Random random)
    {
        Assert.Equal(index, state.Index);

        // Compared cheaply first; Assert.Equal only to describe a difference.
        var kvs = state.Kvs.PrefixWatch("").Entries;
        if (!model.Kvs.SequenceEqual(kvs))
        {
            Assert.Equal(model.Kvs.ToList(), kvs);
        }

        var tombstones = state.Tombstones.PrefixWatch("").Entries;
        if (!model.Tombstones.SequenceEqual(tombstones))
        {
            Assert.Equal(model.Tombstones.ToList(), tombstones);
        }

        Assert.Equal(model.Kvs.Count, state.Kvs.Count);
        Assert.Equal(model.KvsIndex, state.TableIndex(Tables.Kvs));
        Assert.Equal(model.TombstonesIndex, state.TableIndex(Tables.Tombstones));
        Assert.Equal(model.Sessions.Keys.Order(StringComparer.Ordinal), state.Sessions.PrefixWatch("").Entries.Select(e => e.Key));
        Assert.Equal(
            model.LockDelays.Where(d => d.Value > now).OrderBy(d => d.Key, StringComparer.Ordinal),
            state.LockDelays.Where(d => d.Value > now).OrderBy(d => d.Key, StringComparer.Ordinal));

        for (var probe = 0; probe < 3; probe++)
        {
            var key = RandomKey(random, random.Next(1, 4));
            var get = state.KvGet(key);
            Assert.Equal(model.Kvs.GetValueOrDefault(key), get.Result);
            Assert.Equal(model.GetIndex(key), get.Index);

            var prefix = RandomKey(random, random.Next(0, 3));
            var list = state.KvList(prefix);
            Assert.Equal(model.Kvs.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(e => e.Value), list.Result);
            Assert.Equal(model.ListIndex(prefix), list.Index);
        }
    }

    private sealed class StepFailedException(string message, Exception inner) : Exception(message, inner);

    private sealed record Expected(bool Ok, bool Refused, List<int> Errors, List<KvEntry> Results, List<StateEvent> Events);

    private enum Outcome
    {
        Ok,
        Failed,
        Refused,
    }

    /// <summary>Consul's KV semantics over sorted dictionaries; entries are never mutated, only replaced.</summary>
    private sealed class Model
    {
        public SortedDictionary<string, KvEntry> Kvs { get; private init; } = new(StringComparer.Ordinal);

        public SortedDictionary<string, ulong> Tombstones { get; private init; } = new(StringComparer.Ordinal);

        public Dictionary<string, (string Behavior, long DelayMs)> Sessions { get; private init; } = new(StringComparer.Ordinal);

        public Dictionary<string, long> LockDelays { get; private init; } = new(StringComparer.Ordinal);

        public ulong KvsIndex { get; private set; }

        public ulong TombstonesIndex { get; private set; }

        private List<StateEvent> Events { get; set; } = [];

        public Model Clone() => new()
        {
            Kvs = new(Kvs, StringComparer.Ordinal),
            Tombstones = new(Tombstones, StringComparer.Ordinal),
            Sessions = new(Sessions, StringComparer.Ordinal),
            LockDelays = new(LockDelays, StringComparer.Ordinal),
            KvsIndex = KvsIndex,
            TombstonesIndex = TombstonesIndex,
        };

        public ulong GetIndex(string key) =>
            Math.Max(1, Kvs.TryGetValue(key, out var entry) ? entry.ModifyIndex : Math.Max(KvsIndex, TombstonesIndex));

        public ulong ListIndex(string prefix)
        {
            ulong index = 0;
            if (prefix.Length == 0)
            {
                index = Math.Max(KvsIndex, TombstonesIndex); // listing everything answers the tables' index (Consul's KVSList)
            }

            foreach (var (key, entry) in Kvs)
            {
                index = key.StartsWith(prefix, StringComparison.Ordinal) ? Math.Max(index, entry.ModifyIndex) : index;
            }

            foreach (var (key, at) in Tombstones)
            {
                index = key.StartsWith(prefix, StringComparison.Ordinal) ? Math.Max(index, at) : index;
            }

            return Math.Max(1, index == 0 ? Math.Max(KvsIndex, TombstonesIndex) : index);
        }

        /// <summary>Applies the command here (all or nothing) and says what the store should answer and publish.</summary>
        public Expected Apply(Command command, ulong index, long now)
        {
            var work = Clone();
            var errors = new List<int>();
            var results = new List<KvEntry>();
            bool ok;
            var refused = false;
            switch (command.OpCase)
            {
                case Command.OpOneofCase.Kv:
                {
                    var outcome = work.Kv(command.Kv, index, now, inTxn: false, results);
                    results.Clear(); // a single command answers with its outcome only
                    ok = outcome == Outcome.Ok;
                    refused = outcome == Outcome.Refused;
                    break;
                }

                case Command.OpOneofCase.Txn:
                    for (var i = 0; i < command.Txn.Ops.Count; i++)
                    {
                        if (work.Kv(command.Txn.Ops[i], index, now, inTxn: true, results) != Outcome.Ok)
                        {
                            errors.Add(i);
                        }
                    }

                    ok = errors.Count == 0;
                    if (!ok)
                    {
                        results.Clear();
                    }

                    break;
                case Command.OpOneofCase.Session when command.Session.Verb == SessionOp.Types.Verb.Create:
                {
                    var session = command.Session.Session;
                    work.Sessions[session.Id] = (session.Behavior, session.LockDelayNs / 1_000_000);
                    work.Events.Add(new StateEvent(Tables.Sessions, session.Id, index));
                    ok = true;
                    break;
                }

                case Command.OpOneofCase.Session:
                    ok = work.Destroy(command.Session.Session.Id, index, now);
                    break;
                case Command.OpOneofCase.Reap:
                    foreach (var (key, at) in work.Tombstones.ToList())
                    {
                        if (at <= command.Reap.UpTo)
                        {
                            work.Tombstones.Remove(key);
                            work.TombstonesIndex = index;
                        }
                    }

                    ok = true;
                    break;
                default:
                    throw new InvalidOperationException($"the model has no {command.OpCase}");
            }

            var events = work.Events;
            if (refused || errors.Count > 0)
            {
                events = [];
            }
            else
            {
                work.Events = [];
                Adopt(work);
            }

            return new Expected(ok, refused, errors, results, events);
        }

        private void Adopt(Model work)
        {
            Kvs.Clear();
            Tombstones.Clear();
            Sessions.Clear();
            LockDelays.Clear();
            foreach (var (key, entry) in work.Kvs)
            {
                Kvs[key] = entry;
            }

            foreach (var (key, at) in work.Tombstones)
            {
                Tombstones[key] = at;
            }

            foreach (var (id, session) in work.Sessions)
            {
                Sessions[id] = session;
            }

            foreach (var (key, until) in work.LockDelays)
            {
                LockDelays[key] = until;
            }

            KvsIndex = work.KvsIndex;
            TombstonesIndex = work.TombstonesIndex;
        }

        private Outcome Kv(KvOp op, ulong index, long now, bool inTxn, List<KvEntry> results)
        {
            if (op.Key.Length == 0 && op.Verb is not (Verb.DeleteTree or Verb.GetTree))
            {
                return Outcome.Refused;
            }

            Kvs.TryGetValue(op.Key, out var existing);
            switch (op.Verb)
            {
                case Verb.Set:
                    results.Add(Write(op, existing, existing?.Session ?? "", existing?.LockIndex ?? 0, index));
                    return Outcome.Ok;
                case Verb.Cas:
                    if (op.Index == 0 ? existing is not null : existing is null || existing.ModifyIndex != op.Index)
                    {
                        return Outcome.Failed;
                    }

                    results.Add(Write(op, existing, existing?.Session ?? "", existing?.LockIndex ?? 0, index));
                    return Outcome.Ok;
                case Verb.Delete:
                    Remove(op.Key, index);
                    return Outcome.Ok;
                case Verb.DeleteCas:
                    if (existing is not null && existing.ModifyIndex != op.Index)
                    {
                        return Outcome.Failed;
                    }

                    Remove(op.Key, index);
                    return Outcome.Ok;
                case Verb.DeleteTree:
                    foreach (var key in Kvs.Keys.Where(k => k.StartsWith(op.Key, StringComparison.Ordinal)).ToList())
                    {
                        Remove(key, index);
                    }

                    return Outcome.Ok;
                case Verb.Lock:
                    if (op.Session.Length == 0 || !Sessions.ContainsKey(op.Session))
                    {
                        return Outcome.Refused;
                    }

                    if (LockDelays.TryGetValue(op.Key, out var until) && until > now)
                    {
                        return Outcome.Failed;
                    }

                    if (existing is { Session.Length: > 0 } && existing.Session != op.Session)
                    {
                        return Outcome.Failed;
                    }

                    var lockIndex = existing is not null && existing.Session == op.Session ? existing.LockIndex : (existing?.LockIndex ?? 0) + 1;
                    results.Add(Write(op, existing, op.Session, lockIndex, index));
                    return Outcome.Ok;
                case Verb.Unlock:
                    if (op.Session.Length == 0)
                    {
                        return Outcome.Refused;
                    }

                    if (existing is null || existing.Session != op.Session)
                    {
                        return Outcome.Failed;
                    }

                    results.Add(Write(op, existing, "", existing.LockIndex, index));
                    return Outcome.Ok;
                case Verb.Get:
                    if (existing is null)
                    {
                        return Outcome.Failed;
                    }

                    results.Add(existing);
                    return Outcome.Ok;
                case Verb.CheckIndex when existing is not null && existing.ModifyIndex == op.Index:
                case Verb.CheckSession when existing is not null && existing.Session == op.Session:
                    results.Add(WithoutValue(existing!));
                    return Outcome.Ok;
                case Verb.CheckIndex or Verb.CheckSession:
                    return Outcome.Failed;
                case Verb.CheckNotExists:
                    return existing is null ? Outcome.Ok : Outcome.Failed;
                case Verb.GetTree when inTxn:
                    results.AddRange(Kvs.Where(e => e.Key.StartsWith(op.Key, StringComparison.Ordinal)).Select(e => e.Value));
                    return Outcome.Ok;
                default:
                    return Outcome.Refused;
            }
        }

        private bool Destroy(string id, ulong index, long now)
        {
            if (!Sessions.Remove(id, out var session))
            {
                return false;
            }

            foreach (var (key, entry) in Kvs.Where(e => e.Value.Session == id).ToList())
            {
                if (session.Behavior == "delete")
                {
                    Remove(key, index);
                }
                else
                {
                    var released = entry.Clone();
                    released.Session = "";
                    released.ModifyIndex = index;
                    Kvs[key] = released;
                    KvsIndex = index;
                    Events.Add(new StateEvent(Tables.Kvs, key, index));
                }

                if (session.DelayMs > 0)
                {
                    LockDelays[key] = now + session.DelayMs;
                }
            }

            Events.Add(new StateEvent(Tables.Sessions, id, index));
            return true;
        }

        private KvEntry Write(KvOp op, KvEntry? existing, string session, ulong lockIndex, ulong index)
        {
            var entry = new KvEntry
            {
                Key = op.Key,
                Value = op.Value,
                Flags = op.Flags,
                Session = session,
                LockIndex = lockIndex,
                CreateIndex = existing?.CreateIndex ?? index,
                ModifyIndex = index,
            };
            Kvs[op.Key] = entry;
            KvsIndex = index;
            Events.Add(new StateEvent(Tables.Kvs, op.Key, index));
            return WithoutValue(entry);
        }

        private void Remove(string key, ulong index)
        {
            if (Kvs.Remove(key))
            {
                Tombstones[key] = index;
                KvsIndex = index;
                TombstonesIndex = index;
                Events.Add(new StateEvent(Tables.Kvs, key, index));
            }
        }

        private static KvEntry WithoutValue(KvEntry entry)
        {
            var shown = entry.Clone();
            shown.Value = ByteString.Empty;
            return shown;
        }
    }
}
