using System.Diagnostics.CodeAnalysis;

namespace Cluster.Testing.Linearizability;

/// <summary>
/// A KV key as a register: the state is its value (null = absent). Reads, writes and check-and-set
/// (Consul's <c>?cas=</c>, where an expected null means "only if absent").
/// </summary>
public sealed class RegisterModel : IModel<string?>
{
    /// <summary>Stands for every value that no operation still to come observes.</summary>
    private const string Unread = "\u0000unread";

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

    /// <summary>A read observes the value it returned, a cas the value it expected; a write observes nothing.</summary>
    public IReadOnlyCollection<string>? Observes(Operation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (operation.Value == Unread || operation.Expected == Unread)
        {
            return null; // the stand-in is taken; stay exact
        }

        var observed = operation.Kind switch
        {
            OpKind.Read => operation.Value,
            OpKind.Cas => operation.Expected,
            _ => null,
        };
        return observed is null ? [] : [observed];
    }

    /// <summary>
    /// A dead value behaves like every other one: reads and successful cas operations fail on it,
    /// failed ones pass. So writing it is writing the stand-in.
    /// </summary>
    public Operation Forget(Operation operation, Func<string, bool> dead)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(dead);
        return operation.Kind is OpKind.Write or OpKind.Cas && operation.Value is { } value && value != Unread && dead(value)
            ? operation with { Value = Unread }
            : operation;
    }

    public string Describe(string? state) => state switch
    {
        null => "the key absent",
        Unread => "a value nothing read later",
        _ => $"the value {state}",
    };
}
