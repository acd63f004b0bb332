namespace Legacy.Actors;

/// <summary>
/// A failed outcome as a message: what <see cref="TaskExtensions.PipeTo{T}"/> tells on a
/// faulted task, and what a replier sends to make an Ask fail with <paramref name="Cause"/>.
/// </summary>
public sealed record Failure(Exception Cause);
