using Grpc.Core;

namespace Cluster.Server.Nodes;

/// <summary>What a failed call tells about whether its request reached the other side.</summary>
public static class RpcOutcome
{
    /// <summary>
    /// The connection was refused or never completed: the request did not leave this host, so a
    /// write may be sent elsewhere. Any other failure (a reset, a stall, a deadline) may come after
    /// the server received it — and applied it.
    /// </summary>
    public static bool NeverSent(RpcException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        // Grpc.Net.Client keeps the transport's exception in the status (DebugException).
        for (var inner = e.Status.DebugException ?? e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError }
                or System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused or System.Net.Sockets.SocketError.HostUnreachable or System.Net.Sockets.SocketError.NetworkUnreachable })
            {
                return true;
            }
        }

        return false;
    }
}
