namespace Cluster.Raft.Storage;

/// <summary>The log is damaged somewhere a crash cannot explain (not at the tail): refuse to start rather than guess.</summary>
public sealed class CorruptLogException(string message) : Exception(message);
