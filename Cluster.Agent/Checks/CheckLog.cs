using Microsoft.Extensions.Logging;

namespace Cluster.Agent.Checks;

internal static partial class CheckLog
{
    [LoggerMessage(1, LogLevel.Debug, "Check {CheckId} is now {Status}")]
    public static partial void StatusChanged(ILogger logger, string checkId, string status);

    [LoggerMessage(2, LogLevel.Warning, "Check {CheckId} failed but has not reached its failure threshold ({Status}: {Output})")]
    public static partial void BelowFailureThreshold(ILogger logger, string checkId, string status, string output);

    [LoggerMessage(3, LogLevel.Debug, "Check {CheckId} passed but has not reached its success threshold")]
    public static partial void BelowSuccessThreshold(ILogger logger, string checkId);

    [LoggerMessage(4, LogLevel.Error, "Check {CheckId}: the probe threw")]
    public static partial void ProbeThrew(ILogger logger, string checkId, Exception exception);

    [LoggerMessage(5, LogLevel.Warning, "Alias check {CheckId} could not read the aliased checks; retrying in {Delay}")]
    public static partial void AliasSourceFailed(ILogger logger, string checkId, TimeSpan delay, Exception exception);

    [LoggerMessage(6, LogLevel.Warning, "Check {CheckId}: interval {Interval} is below the minimum, using {Minimum}")]
    public static partial void IntervalRaised(ILogger logger, string checkId, TimeSpan interval, TimeSpan minimum);

    [LoggerMessage(7, LogLevel.Error, "Check {CheckId}: the status callback threw")]
    public static partial void CallbackThrew(ILogger logger, string checkId, Exception exception);
}
