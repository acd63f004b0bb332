namespace Cluster.Grpc;

/// <summary>
/// A call ended with a non-OK status. Thrown by the client when a call fails, and thrown by
/// server handlers to end a call with a chosen status and trailers.
/// </summary>
public sealed class RpcException : Exception
{
    public RpcException(Status status, Metadata? trailers = null, Exception? innerException = null)
        : base(status.ToString(), innerException)
    {
        Status = status;
        Trailers = trailers ?? new Metadata();
    }

    public RpcException(StatusCode code, string detail)
        : this(new Status(code, detail))
    {
    }

    public RpcException()
        : this(new Status(StatusCode.Unknown, ""))
    {
    }

    public RpcException(string message)
        : this(new Status(StatusCode.Unknown, message))
    {
    }

    public RpcException(string message, Exception innerException)
        : this(new Status(StatusCode.Unknown, message), null, innerException)
    {
    }

    public Status Status { get; }

    public StatusCode StatusCode => Status.Code;

    /// <summary>Trailers sent with the status (server side) or received with it (client side).</summary>
    public Metadata Trailers { get; }
}
