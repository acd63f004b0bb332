using Cluster.Grpc;
using Cluster.Grpc.Client;
using Cluster.Server.Core;
using Cluster.Server.Wire;

namespace Cluster.Tests.Grpc;

/// <summary>
/// A call that never reached a server says so: Unavailable, with the refused connection as its
/// cause, so a caller can tell "safe to send elsewhere" from "may have been applied".
/// </summary>
public sealed class ConnectFailureCauseTests
{
    [Fact]
    public async Task A_refused_connection_is_unavailable_with_the_connection_error_as_cause()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nobody listens there now

        using var channel = GrpcChannel.ForAddress(new Uri($"http://127.0.0.1:{port}"), new GrpcChannelOptions { ConnectTimeout = TimeSpan.FromSeconds(1) });
        var e = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(ServerRpcMethods.Apply, new ApplyRequest()));
        Assert.Equal(StatusCode.Unavailable, e.Status.Code);
        Assert.Equal(HttpRequestError.ConnectionError, Assert.IsType<HttpRequestException>(e.InnerException).HttpRequestError);
    }
}
