namespace Cluster.Agent.Checks;

/// <summary>
/// What an alias check mirrors: a service (by ID) on a node, or the node itself when
/// <see cref="ServiceId"/> is null. A null <see cref="Node"/> is this agent's own node.
/// </summary>
public sealed record AliasTarget(string? Node, string? ServiceId);
