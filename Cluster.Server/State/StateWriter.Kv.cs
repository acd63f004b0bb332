using Cluster.Contracts.State;
using Google.Protobuf;

namespace Cluster.Server.State;

/// <summary>KV writes with Consul's semantics (CAS, locks held by sessions, lock delay, tombstones).</summary>
public sealed partial class StateWriter
{
    /// <summary>
    /// Applies one KV operation. Returns false when its condition does not hold (a CAS index that
    /// does not match, a lock held by another session); a read or check returns the entry it saw.
    /// Throws <see cref="StateRefusedException"/> for an operation that is invalid as a whole.
    /// </summary>
    public (bool Ok, KvEntry? Entry, string? Why) Kv(KvOp op)
    {
        ArgumentNullException.ThrowIfNull(op);
        if (op.Key.Length == 0 && op.Verb is not (KvOp.Types.Verb.DeleteTree or KvOp.Types.Verb.GetTree))
        {
            throw Refused("a key is required");
        }

        _kvs.TryGet(op.Key, out var existing);
        switch (op.Verb)
        {
            case KvOp.Types.Verb.Set:
                return (true, SetKv(op, existing, existing?.Session ?? "", existing?.LockIndex ?? 0), null);
            case KvOp.Types.Verb.Cas:
                if (op.Index == 0 ? existing is not null : existing is null || existing.ModifyIndex != op.Index)
                {
                    return (false, null, $"failed to set key \"{op.Key}\", index is stale");
                }

                return (true, SetKv(op, existing, existing?.Session ?? "", existing?.LockIndex ?? 0), null);
            case KvOp.Types.Verb.Delete:
                DeleteKv(op.Key);
                return (true, null, null);
            case KvOp.Types.Verb.DeleteCas:
                if (existing is null || existing.ModifyIndex != op.Index)
                {
                    return (existing is null, null, existing is null ? null : $"failed to delete key \"{op.Key}\", index is stale");
                }

                DeleteKv(op.Key);
                return (true, null, null);
            case KvOp.Types.Verb.DeleteTree:
                foreach (var (key, _) in _kvs.List(op.Key))
                {
                    DeleteKv(key);
                }

                return (true, null, null);
            case KvOp.Types.Verb.Lock:
                return Acquire(op, existing);
            case KvOp.Types.Verb.Unlock:
                if (op.Session.Length == 0)
                {
                    // As Consul's kvsUnlockTxn: without this an unlock with no session on an unheld key
                    // passed for its holder ("" == "") and wrote like a plain set.
                    throw Refused("missing session");
                }

                if (existing is null || existing.Session != op.Session)
                {
                    return (false, null, $"failed to unlock key \"{op.Key}\": the lock is not held by session \"{op.Session}\"");
                }

                return (true, SetKv(op, existing, "", existing.LockIndex), null);
            case KvOp.Types.Verb.Get:
                return existing is null ? (false, null, $"key \"{op.Key}\" doesn't exist") : (true, existing, null);
            case KvOp.Types.Verb.CheckIndex:
                return existing is not null && existing.ModifyIndex == op.Index
                    ? (true, existing, null)
                    : (false, null, $"current modify index {existing?.ModifyIndex ?? 0} != {op.Index}");
            case KvOp.Types.Verb.CheckSession:
                return existing is not null && existing.Session == op.Session
                    ? (true, existing, null)
                    : (false, null, $"key \"{op.Key}\" is not locked by session \"{op.Session}\"");
            case KvOp.Types.Verb.CheckNotExists:
                return existing is null ? (true, null, null) : (false, null, $"key \"{op.Key}\" exists");
            default:
                throw Refused($"unknown KV verb {op.Verb}");
        }
    }

    /// <summary>The entries under a prefix as this command sees them (a transaction's get-tree).</summary>
    public IReadOnlyList<KvEntry> KvTree(string prefix) => [.. _kvs.List(prefix).Select(e => e.Value)];

    private (bool Ok, KvEntry? Entry, string? Why) Acquire(KvOp op, KvEntry? existing)
    {
        if (op.Session.Length == 0 || !_sessions.TryGet(op.Session, out _))
        {
            throw Refused($"invalid session \"{op.Session}\"");
        }

        if (LockDelayed(op.Key))
        {
            return (false, null, $"key \"{op.Key}\" is in its lock delay");
        }

        if (existing is not null && existing.Session.Length > 0 && existing.Session != op.Session)
        {
            return (false, null, $"key \"{op.Key}\" is locked by another session");
        }

        var lockIndex = existing is not null && existing.Session == op.Session ? existing.LockIndex : (existing?.LockIndex ?? 0) + 1;
        return (true, SetKv(op, existing, op.Session, lockIndex), null);
    }

    private bool LockDelayed(string key)
    {
        if (_lockDelays is not null && _lockDelays.TryGetValue(key, out var pending))
        {
            return pending > UnixMs;
        }

        return _from.LockDelays.TryGetValue(key, out var until) && until > UnixMs;
    }

    private KvEntry SetKv(KvOp op, KvEntry? existing, string session, ulong lockIndex)
    {
        var entry = new KvEntry
        {
            Key = op.Key,
            Value = op.Value ?? ByteString.Empty,
            Flags = op.Flags,
            Session = session,
            LockIndex = lockIndex,
            CreateIndex = existing?.CreateIndex ?? Index,
            ModifyIndex = Index,
        };
        _kvs.Set(op.Key, entry);
        return entry;
    }

    private void DeleteKv(string key)
    {
        if (_kvs.Delete(key))
        {
            _tombstones.Set(key, Index, announce: false);
        }
    }

    /// <summary>Releases or deletes what a session held, and starts each key's lock delay.</summary>
    private void ReleaseLocks(Session session)
    {
        foreach (var (key, entry) in _kvs.List(""))
        {
            if (entry.Session != session.Id)
            {
                continue;
            }

            if (session.Behavior == "delete")
            {
                DeleteKv(key);
            }
            else
            {
                var released = entry.Clone();
                released.Session = "";
                released.ModifyIndex = Index;
                _kvs.Set(key, released);
            }

            if (session.LockDelayNs > 0)
            {
                (_lockDelays ??= [])[key] = UnixMs + (session.LockDelayNs / 1_000_000);
            }
        }
    }
}
