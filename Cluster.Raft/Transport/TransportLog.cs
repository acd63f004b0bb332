using Microsoft.Extensions.Logging;

namespace Cluster.Raft.Transport;

internal static partial class TransportLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "snapshot {Index} to {Peer} interrupted: {Error}")]
    public static partial void SnapshotInterrupted(this ILogger logger, ulong index, ulong peer, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "stream to {Peer} at {Address} broke: {Error}")]
    public static partial void StreamBroke(this ILogger logger, ulong peer, string address, string error);

    [LoggerMessage(Level = LogLevel.Critical, Message = "raft server {Id} stopped: its log or state machine failed")]
    public static partial void ServerFailed(this ILogger logger, Exception exception, ulong id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "snapshot {Index} (term {Term}) is gone; the leader will offer a newer one")]
    public static partial void SnapshotGone(this ILogger logger, ulong index, ulong term);
}
