using System.Diagnostics.CodeAnalysis;

namespace Cluster.Testing.Linearizability;

/// <summary>
/// The sequential specification of one key: the checker asks whether the history can be ordered so
/// that every operation is legal in this model. States are compared with
/// <see cref="EqualityComparer{T}.Default"/> and used as cache keys, so they must be immutable values.
/// </summary>
/// <remarks>
/// The checker relies on two properties. A step depends only on the operation's
/// <see cref="Operation.Kind"/>, <see cref="Operation.Value"/>, <see cref="Operation.Expected"/> and
/// <see cref="Operation.Succeeded"/> (operations that agree on these are interchangeable). And an
/// operation whose result is "false" leaves the state as it was, so an operation of unknown outcome
/// is checked as if it succeeded, or never happened.
/// </remarks>
public interface IModel<TState>
{
    /// <summary>For reports, e.g. "register".</summary>
    string Name { get; }

    /// <summary>The state of a key before any operation (e.g. absent).</summary>
    TState Initial { get; }

    /// <summary>Whether <paramref name="operation"/>, with its recorded result, is legal in <paramref name="state"/>, and the state after it.</summary>
    bool TryStep(TState state, Operation operation, [MaybeNullWhen(false)] out TState next);

    /// <summary>
    /// True when the operation is legal in every state and its next state does not depend on the state
    /// (a blind write). The search then tries it from fewer places; false is always safe.
    /// </summary>
    bool IsBlind(Operation operation) => false;

    /// <summary>
    /// The values whose presence in the state decides whether <paramref name="operation"/> is legal and
    /// what it leaves; null when the model cannot say, and then the checker forgets nothing for the key.
    /// </summary>
    /// <remarks>
    /// A value that no operation still to be linearized observes is dead. Writes of dead values are
    /// interchangeable, which keeps operations of unknown outcome that nobody will observe from
    /// multiplying the configurations (each could explain a failed cas, say).
    /// </remarks>
    IReadOnlyCollection<string>? Observes(Operation operation) => null;

    /// <summary>
    /// The operation with the values <paramref name="dead"/> holds for replaced by one stand-in that no
    /// operation observes. On every state it must be legal exactly when the original is, and leave a
    /// state that differs from the original's only in dead values.
    /// </summary>
    Operation Forget(Operation operation, Func<string, bool> dead) => operation;

    /// <summary>A state in words for reports, e.g. "the value 2122" or "held by session s3".</summary>
    string Describe(TState state);
}
