using Cluster.Contracts.State;

namespace Cluster.Server.State;

/// <summary>Sessions and config entries.</summary>
public sealed partial class StateWriter
{
    public void CreateSession(Session session)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (session.Id.Length == 0)
        {
            throw Refused("Missing session ID");
        }

        if (_sessions.TryGet(session.Id, out _))
        {
            throw Refused($"Session \"{session.Id}\" already exists");
        }

        if (session.Behavior is not ("release" or "delete"))
        {
            throw Refused($"Invalid session behavior \"{session.Behavior}\"");
        }

        var nodeKey = StateVersion.Lower(session.Node);
        if (!_nodes.TryGet(nodeKey, out var node))
        {
            throw Refused($"Missing node registration \"{session.Node}\"");
        }

        foreach (var checkId in session.NodeChecks.Concat(session.ServiceChecks.Select(c => c.Id)))
        {
            if (!_checks.TryGet(StateVersion.Key(nodeKey, checkId), out var check))
            {
                throw Refused($"Missing check \"{checkId}\" registration");
            }

            if (check.Status == "critical")
            {
                throw Refused($"Check \"{checkId}\" is in critical state");
            }
        }

        var next = session.Clone();
        next.Node = node.Name;
        next.CreateIndex = Index;
        next.ModifyIndex = Index;
        _sessions.Set(next.Id, next);
        _sessionsByNode.Set(StateVersion.Key(nodeKey, next.Id), next, announce: false);
    }

    /// <summary>Destroys a session and releases (or deletes, per its behaviour) every lock it holds.</summary>
    public bool DestroySession(string id)
    {
        if (!_sessions.TryGet(id, out var session))
        {
            return false;
        }

        ReleaseLocks(session);
        _sessions.Delete(id);
        _sessionsByNode.Delete(StateVersion.Key(StateVersion.Lower(session.Node), id), announce: false);
        return true;
    }

    /// <summary>Upserts, deletes or compare-and-sets a config entry (validated before it is proposed).</summary>
    public bool Config(ConfigOp op)
    {
        ArgumentNullException.ThrowIfNull(op);
        var entry = op.Entry ?? throw Refused("Missing config entry");
        var key = StateVersion.Key(entry.Kind, entry.Name);
        var exists = _config.TryGet(key, out var existing);
        switch (op.Verb)
        {
            case ConfigOp.Types.Verb.Cas when op.Index == 0 ? exists : !exists || existing.ModifyIndex != op.Index:
                return false;
            case ConfigOp.Types.Verb.Upsert or ConfigOp.Types.Verb.Cas:
                var next = entry.Clone();
                next.CreateIndex = exists ? existing.CreateIndex : Index;
                next.ModifyIndex = Index;
                _config.Set(key, next);
                return true;
            case ConfigOp.Types.Verb.DeleteCas when !exists || existing.ModifyIndex != op.Index:
                return false;
            case ConfigOp.Types.Verb.Delete or ConfigOp.Types.Verb.DeleteCas:
                _config.Delete(key);
                return true;
            default:
                throw Refused($"unknown config verb {op.Verb}");
        }
    }
}
