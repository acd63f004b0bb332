namespace Cluster.Raft.Server;

/// <summary>
/// A proposal may or may not have been committed, and this server cannot tell (a snapshot from
/// the new leader replaced the log where it stood). Never propose it again blindly: it may be
/// applied already.
/// </summary>
public sealed class OutcomeUnknownException(string message) : Exception(message);
