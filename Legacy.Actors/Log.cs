using Legacy.Actors.Supervision;
using Microsoft.Extensions.Logging;

namespace Legacy.Actors;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Error, "Actor {Path} failed; supervisor decided {Directive}")]
    public static partial void ChildFailed(ILogger logger, string path, Directive directive, Exception exception);

    [LoggerMessage(2, LogLevel.Information, "Dead letter: {MessageType} to {Recipient} from {Sender}: {Reason}")]
    public static partial void DeadLetter(ILogger logger, string messageType, string recipient, string sender, string reason);

    [LoggerMessage(3, LogLevel.Information, "{Limit} dead letters logged; further ones are only counted and published")]
    public static partial void DeadLettersQuiet(ILogger logger, int limit);

    [LoggerMessage(4, LogLevel.Debug, "Unhandled {MessageType} in {Path}")]
    public static partial void Unhandled(ILogger logger, string messageType, string path);

    [LoggerMessage(5, LogLevel.Error, "{Hook} of {Path} threw")]
    public static partial void HookFailed(ILogger logger, string hook, string path, Exception exception);

    [LoggerMessage(6, LogLevel.Critical, "Actor runtime fault in {Path}")]
    public static partial void RuntimeFault(ILogger logger, string path, Exception exception);

    [LoggerMessage(7, LogLevel.Warning, "Actor {Path} threw while stopping")]
    public static partial void FailedWhileStopping(ILogger logger, string path, Exception exception);
}
