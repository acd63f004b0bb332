namespace Cluster.Agent.Checks;

/// <summary>A check definition that cannot be monitored (a disabled script check, a bad address).</summary>
public sealed class InvalidCheckException(string message) : Exception(message);
