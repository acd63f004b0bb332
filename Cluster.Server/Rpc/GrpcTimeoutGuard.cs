using Microsoft.AspNetCore.Http;

namespace Cluster.Server.Rpc;

/// <summary>
/// Refuses a call whose grpc-timeout header is malformed (gRPC's spec: 1 to 8 digits and a unit
/// of H, M, S, m, u or n) with INTERNAL, as grpc-go does. Grpc.AspNetCore logs such a header and
/// runs the call with no deadline, so a caller that believed it had one would hold the server's
/// handler for as long as it liked.
/// </summary>
public static class GrpcTimeoutGuard
{
    public static bool IsWellFormed(string value) =>
        value.Length is >= 2 and <= 9
        && !value.AsSpan(0, value.Length - 1).ContainsAnyExceptInRange('0', '9')
        && value[^1] is 'H' or 'M' or 'S' or 'm' or 'u' or 'n';

    public static async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (context.Request.Headers.TryGetValue("grpc-timeout", out var values) && (values.Count != 1 || !IsWellFormed(values[0] ?? "")))
        {
            // Trailers-only answer: the status in the headers of an empty 200.
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = "13";
            context.Response.Headers["grpc-message"] = "malformed grpc-timeout";
            return;
        }

        await next(context).ConfigureAwait(false);
    }
}
