using System.Diagnostics.CodeAnalysis;

namespace Cluster.Testing.Linearizability;

/// <summary>
/// A KV key as a register: the state is its value (null = absent). Reads, writes and check-and-set
/// (Consul's <c>?cas=</c>, where an expected null means "only if absent").
/// </summary>
public sealed class RegisterModel : IModel<string?>
{
    public static readonly RegisterModel Instance = new();

    public string Name => "register";

    public string? Initial => null;

    public bool TryStep(string? state, Operation operation, [MaybeNullWhen(false)] out string? next)
    {
        ArgumentNullException.ThrowIfNull(operation);
        next = state;
        switch (operation.Kind)
        {
            case OpKind.Read:
                return state == operation.Value;
            case OpKind.Write:
                next = operation.Value;
                return true;
            case OpKind.Cas when operation.Succeeded:
                next = operation.Value;
                return state == operation.Expected;
            case OpKind.Cas:
                return state != operation.Expected;
            default:
                throw new ArgumentException($"a register has no {operation.Kind} (operation {operation.Id})", nameof(operation));
        }
    }

    public bool IsBlind(Operation operation) => operation?.Kind == OpKind.Write;

    public string Describe(string? state) => state is null ? "the key absent" : $"the value {state}";
}
