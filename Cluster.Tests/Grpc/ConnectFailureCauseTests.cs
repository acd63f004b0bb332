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
        Assert.True(RpcOutcome.NeverSent(e));
    }

    [Fact]
    public async Task A_connection_dropped_after_the_request_was_sent_is_not_taken_for_one_that_never_opened()
    {
        // A "leader" that takes the connection, reads the request and dies before answering: a
        // forwarded write may have been applied, so it must not be sent to another server.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            var buffer = new byte[4096];
            var received = 0;
            while (received < 100 && await socket.ReceiveAsync(buffer.AsMemory(received)) is var n and > 0)
            {
                received += n; // preface, SETTINGS, then the call's HEADERS and DATA
            }

            socket.LingerState = new System.Net.Sockets.LingerOption(true, 0); // a reset, as a killed process leaves
            socket.Close();
        });

        using var channel = GrpcChannel.ForAddress(new Uri($"http://127.0.0.1:{port}"), new GrpcChannelOptions { ConnectTimeout = TimeSpan.FromSeconds(5) });
        var e = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync(ServerRpcMethods.Apply, new ApplyRequest { Command = new Command() }));
        await server;
        Assert.False(RpcOutcome.NeverSent(e), $"{e.Status}: {e.InnerException}");
    }
}
