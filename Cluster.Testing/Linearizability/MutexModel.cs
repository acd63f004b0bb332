using System.Diagnostics.CodeAnalysis;

namespace Cluster.Testing.Linearizability;

/// <summary>
/// A lock key driven by Consul's <c>?acquire=</c> and <c>?release=</c>: the state is the holder's
/// session (null = free). A read returns the holder. Acquiring a lock one already holds succeeds.
/// </summary>
public sealed class MutexModel : IModel<string?>
{
    public static readonly MutexModel Instance = new();

    public string Name => "mutex";

    public string? Initial => null;

    public bool TryStep(string? holder, Operation operation, [MaybeNullWhen(false)] out string? next)
    {
        ArgumentNullException.ThrowIfNull(operation);
        next = holder;
        var session = operation.Value;
        switch (operation.Kind)
        {
            case OpKind.Read:
                return holder == session;
            case OpKind.Acquire when operation.Succeeded:
                next = session;
                return holder is null || holder == session;
            case OpKind.Acquire:
                return holder is not null && holder != session;
            case OpKind.Release when operation.Succeeded:
                next = null;
                return holder == session;
            case OpKind.Release:
                return holder != session;
            default:
                throw new ArgumentException($"a lock has no {operation.Kind} (operation {operation.Id})", nameof(operation));
        }
    }

    public string Describe(string? holder) => holder is null ? "the lock free" : $"the lock held by {holder}";
}
