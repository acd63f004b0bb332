using Microsoft.Extensions.Logging;

namespace Legacy.Actors.Remoting;

internal static partial class RemotingLog
{
    [LoggerMessage(101, LogLevel.Warning, "Node {Address} lost: {Reason}; {Watches} watches terminated")]
    public static partial void NodeLost(ILogger logger, string address, string reason, int watches);

    [LoggerMessage(102, LogLevel.Debug, "Dial to {Address} failed: {Reason}")]
    public static partial void DialFailed(ILogger logger, string address, string reason);

    [LoggerMessage(103, LogLevel.Debug, "Stream with {Address} ended: {Reason}")]
    public static partial void StreamEnded(ILogger logger, string address, string reason);

    [LoggerMessage(104, LogLevel.Warning, "Association from {Address} refused: {Reason}")]
    public static partial void Refused(ILogger logger, string address, string reason);

    [LoggerMessage(105, LogLevel.Warning, "Message to {Recipient} not sent: {Reason}")]
    public static partial void NotSerializable(ILogger logger, string recipient, string reason);

    [LoggerMessage(106, LogLevel.Warning, "Bad input from {Address}: {Reason}")]
    public static partial void BadMessage(ILogger logger, string address, string reason);

    [LoggerMessage(107, LogLevel.Error, "Heartbeat and failure check for {Address} failed")]
    public static partial void TickFailed(ILogger logger, string address, Exception exception);
}
