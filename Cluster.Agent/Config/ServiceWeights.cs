namespace Cluster.Agent.Config;

/// <summary>How often DNS answers with this instance when it is passing or warning, relative to others.</summary>
public sealed record ServiceWeights(int Passing = 1, int Warning = 1);
