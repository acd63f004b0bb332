namespace Cluster.Testing.Linearizability;

/// <summary>How an operation ended, as far as its client could tell.</summary>
public enum OpStatus
{
    /// <summary>Completed and its result is known (a result may be "false": that is still information).</summary>
    Ok,

    /// <summary>Definitely had no effect (refused before sending, a 4xx); the checker drops it.</summary>
    Failed,

    /// <summary>
    /// May have taken effect at any time after its call, or never (a timeout, a connection lost after
    /// sending, a 5xx on a write). It is treated as returning at +infinity and as optional.
    /// </summary>
    Unknown,
}

/// <summary>What an operation asked of the KV API.</summary>
public enum OpKind
{
    Read,
    Write,
    Cas,
    Acquire,
    Release,
}

/// <summary>One client operation on one key, as the recorder saw it.</summary>
/// <param name="Id">Unique in its history.</param>
/// <param name="Process">The client that issued it; a process has at most one operation in flight.</param>
/// <param name="Key">The KV key; keys are checked independently.</param>
/// <param name="Kind">What was asked.</param>
/// <param name="Value">
/// Read: the value returned (null = the key was absent). Write: the value written. Cas: the new value.
/// Acquire/Release: the session id.
/// </param>
/// <param name="Expected">Cas: the value expected (null = "only if absent", Consul's cas=0).</param>
/// <param name="Succeeded">Cas/Acquire/Release: the server's true/false. Read/Write: true.</param>
/// <param name="Call">Monotonic nanoseconds when the request was sent.</param>
/// <param name="Return">Monotonic nanoseconds when the answer arrived; ignored for <see cref="OpStatus.Unknown"/>.</param>
/// <param name="Status">How it ended.</param>
/// <param name="Detail">Free text for reports, e.g. the read's consistency mode.</param>
public sealed record Operation(
    int Id,
    int Process,
    string Key,
    OpKind Kind,
    string? Value,
    string? Expected,
    bool Succeeded,
    long Call,
    long Return,
    OpStatus Status,
    string Detail = "");
