namespace Cluster.Agent.Checks;

/// <summary>A check's new status or output, reported by its monitor whenever either changes.</summary>
public sealed record CheckStatusUpdate(string CheckId, string Status, string Output);
