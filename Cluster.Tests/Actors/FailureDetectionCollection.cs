namespace Cluster.Tests.Actors;

/// <summary>
/// Tests whose nodes run gossip on fast test timers (a member is declared failed within a few
/// seconds) run alone, after the parallel ones: with the rest of the suite competing for two
/// cores, a test host stalled for a second was once declared failed and downed (in the clean-clone
/// run of 2026-12-03), which is the detector working, not the behaviour under test.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FailureDetectionCollection
{
    public const string Name = "failure detection on fast gossip timers";
}
