using Microsoft.Extensions.Logging;

namespace Cluster.Grpc.Server;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Error, "gRPC handler for {Method} threw")]
    public static partial void HandlerFailed(ILogger logger, string method, Exception exception);

    [LoggerMessage(2, LogLevel.Debug, "gRPC call {Method} was cancelled by the client")]
    public static partial void CallCancelledByClient(ILogger logger, string method);

    [LoggerMessage(3, LogLevel.Debug, "gRPC call {Method} exceeded its deadline")]
    public static partial void DeadlineExceeded(ILogger logger, string method);

    [LoggerMessage(4, LogLevel.Debug, "gRPC call {Method}: status could not be sent")]
    public static partial void StatusNotSent(ILogger logger, string method, Exception exception);

    [LoggerMessage(5, LogLevel.Debug, "gRPC call {Method}: header {Key} is not valid base64 and was dropped")]
    public static partial void BadBinaryHeader(ILogger logger, string method, string key);

    [LoggerMessage(6, LogLevel.Debug, "gRPC request rejected: {Reason}")]
    public static partial void RequestRejected(ILogger logger, string reason);
}
