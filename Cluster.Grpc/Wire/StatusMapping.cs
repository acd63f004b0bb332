namespace Cluster.Grpc.Wire;

/// <summary>How transport-level failures become gRPC statuses (gRPC's http-grpc-status-mapping).</summary>
internal static class StatusMapping
{
    /// <summary>A response whose HTTP status is not 200 and which carries no grpc-status.</summary>
    public static Status FromHttpStatus(int httpStatus) => new(
        httpStatus switch
        {
            400 => StatusCode.Internal,
            401 => StatusCode.Unauthenticated,
            403 => StatusCode.PermissionDenied,
            404 => StatusCode.Unimplemented,
            429 or 502 or 503 or 504 => StatusCode.Unavailable,
            _ => StatusCode.Unknown,
        },
        $"Bad gRPC response. HTTP status code: {httpStatus}");

    /// <summary>A stream reset by the peer (RST_STREAM) before the call ended.</summary>
    public static Status FromHttp2ErrorCode(long errorCode) => errorCode switch
    {
        0x7 => new(StatusCode.Unavailable, "Stream refused by the server (REFUSED_STREAM)."),
        0x8 => new(StatusCode.Cancelled, "Stream cancelled by the peer (CANCEL)."),
        0xb => new(StatusCode.ResourceExhausted, "Peer asked us to slow down (ENHANCE_YOUR_CALM)."),
        0xc => new(StatusCode.PermissionDenied, "Peer requires stronger transport security (INADEQUATE_SECURITY)."),
        _ => new(StatusCode.Internal, $"Stream reset by the peer with HTTP/2 error code 0x{errorCode:x}."),
    };
}
