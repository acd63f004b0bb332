namespace Cluster.Agent.Checks;

/// <summary>When an interval check runs: every interval, each run cut at the timeout, the first after the stagger.</summary>
internal readonly record struct CheckSchedule(TimeSpan Interval, TimeSpan Timeout, TimeSpan Stagger);
