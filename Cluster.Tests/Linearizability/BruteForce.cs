using Cluster.Testing.Linearizability;

namespace Cluster.Tests.Linearizability;

/// <summary>
/// The definition of linearizability, checked by trying every order: an independent oracle for small
/// histories. An operation of unknown outcome is tried as succeeded, as failed, and as never happened.
/// </summary>
internal static class BruteForce
{
    public static bool IsLinearizable<TState>(IReadOnlyList<Operation> history, IModel<TState> model)
    {
        var ops = history.Where(o => o.Status != OpStatus.Failed && !(o.Status == OpStatus.Unknown && o.Kind == OpKind.Read)).ToArray();
        var placed = new bool[ops.Length];
        return Search(model.Initial);

        bool Search(TState state)
        {
            if (Enumerable.Range(0, ops.Length).All(i => placed[i] || ops[i].Status == OpStatus.Unknown))
            {
                return true;
            }

            for (var i = 0; i < ops.Length; i++)
            {
                // Next only if no operation still unplaced must come before it.
                if (placed[i] || Enumerable.Range(0, ops.Length).Any(j => !placed[j] && ops[j].Status != OpStatus.Unknown && ops[j].Return < ops[i].Call))
                {
                    continue;
                }

                var results = ops[i].Status == OpStatus.Unknown ? new[] { true, false } : [ops[i].Succeeded];
                foreach (var result in results)
                {
                    if (model.TryStep(state, ops[i] with { Succeeded = result }, out var next))
                    {
                        placed[i] = true;
                        var found = Search(next);
                        placed[i] = false;
                        if (found)
                        {
                            return true;
                        }
                    }
                }
            }

            return false;
        }
    }
}
