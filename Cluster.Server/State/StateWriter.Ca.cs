using Cluster.Contracts.State;

namespace Cluster.Server.State;

/// <summary>The Connect CA's one write: the whole CA state, compare-and-set on the table's index.</summary>
public sealed partial class StateWriter
{
    /// <summary>
    /// Replaces the CA when it is still as the planner read it (<see cref="CaSet.CasIndex"/>; 0 = none
    /// yet); false otherwise. A state that could not sign (no config, no trust domain, not exactly
    /// one active root with a key) is refused: the CA must never be left unable to issue leaves.
    /// </summary>
    public bool SetCa(CaSet op)
    {
        ArgumentNullException.ThrowIfNull(op);
        var state = op.State ?? throw Refused("Missing CA state");
        if (state.Config is null || state.Config.ClusterId.Length == 0 || state.TrustDomain.Length == 0)
        {
            throw Refused("the CA state needs a configuration with a cluster ID, and a trust domain");
        }

        if (state.Roots.Count(r => r.Active) != 1 || state.Roots.Any(r => r.Id.Length == 0 || r.RootCert.Length == 0))
        {
            throw Refused("the CA state needs exactly one active root, and every root an ID and certificate");
        }

        if (state.Roots.First(r => r.Active).SigningKey.Length == 0)
        {
            throw Refused("the active root has no signing key");
        }

        var exists = _ca.TryGet(StateVersion.CaKey, out var current);
        var currentIndex = exists ? current.Config.ModifyIndex : 0;
        if (op.CasIndex != currentIndex)
        {
            return false;
        }

        var next = state.Clone();
        next.Config.CreateIndex = exists ? current.Config.CreateIndex : Index;
        next.Config.ModifyIndex = Index;
        var before = exists ? current.Roots.ToDictionary(r => r.Id, StringComparer.Ordinal) : [];
        foreach (var root in next.Roots)
        {
            var old = before.GetValueOrDefault(root.Id);
            root.CreateIndex = old?.CreateIndex ?? Index;
            root.ModifyIndex = old is not null && old.Equals(WithIndexes(root, old)) ? old.ModifyIndex : Index;
        }

        _ca.Set(StateVersion.CaKey, next);
        return true;
    }

    private static CaRoot WithIndexes(CaRoot root, CaRoot indexesFrom)
    {
        var copy = root.Clone();
        copy.CreateIndex = indexesFrom.CreateIndex;
        copy.ModifyIndex = indexesFrom.ModifyIndex;
        return copy;
    }
}
