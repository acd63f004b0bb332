using Cluster.Agent.Config;

namespace Cluster.Agent.Checks;

/// <summary>One version of the aliased checks.</summary>
/// <param name="Version">Changes whenever the checks do (a Raft index, the agent's local version).</param>
/// <param name="Checks">The node-level checks and, for a service, its checks.</param>
/// <param name="ServiceExists">False when the aliased service is not registered on the node.</param>
public sealed record AliasSnapshot(long Version, ValueList<AliasedCheck> Checks, bool ServiceExists = true);

/// <summary>A check the alias looks at. <see cref="ServiceId"/> is empty for a node-level check.</summary>
public sealed record AliasedCheck(string CheckId, string Name, string ServiceId, string Status, string Output);
