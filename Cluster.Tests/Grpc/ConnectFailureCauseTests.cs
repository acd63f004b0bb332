using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Cluster.Server.Nodes;
using Cluster.Contracts.State;
using Grpc.Core;

namespace Cluster.Tests.Grpc;

/// <summary>
/// A call that never reached a server says so: Unavailable, with the refused connection as its
/// cause (Grpc.Net.Client keeps it in <see cref="Status.DebugException"/>), so a caller can tell
/// "safe to send elsewhere" from "may have been applied". The calls go through the channels the
/// servers and client agents use (<see cref="ChannelCache"/>).
/// </summary>
public sealed class ConnectFailureCauseTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>An HTTP/2 SETTINGS frame with no settings (length 0, type 4, no flags, stream 0).</summary>
    private static readonly byte[] EmptySettingsFrame = [0, 0, 0, 4, 0, 0, 0, 0, 0];

    [Fact]
    public async Task A_refused_connection_is_unavailable_with_the_connection_error_as_cause()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nobody listens there now

        using var channels = new ChannelCache(TimeSpan.FromSeconds(1));
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            channels.For($"127.0.0.1:{port}").ApplyAsync(new ApplyRequest(), deadline: DateTime.UtcNow.Add(Bound)).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        // Grpc.Net.Client opens the connection itself (its balancer's subchannel) before any HTTP
        // request: the cause is the socket's refusal ("Error connecting to subchannel.").
        var cause = Assert.IsType<SocketException>(e.Status.DebugException);
        Assert.Equal(SocketError.ConnectionRefused, cause.SocketErrorCode);
        Assert.True(RpcOutcome.NeverSent(e), $"{e.Status}");
    }

    [Fact]
    public async Task A_connection_dropped_after_the_request_was_sent_is_not_taken_for_one_that_never_opened()
    {
        // A "leader" that takes the connection, reads the whole request and dies before answering:
        // a forwarded write may have been applied, so it must not be sent to another server.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            listener.Stop(); // a second connection (a retry) would be refused, not left waiting
            await socket.SendAsync(EmptySettingsFrame); // the server's connection preface, as a real server sends
            await ReadUntilRequestEndsAsync(socket);
            socket.LingerState = new LingerOption(true, 0); // a reset, as a killed process leaves
            socket.Close();
        });

        using var channels = new ChannelCache(TimeSpan.FromSeconds(5));
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            channels.For($"127.0.0.1:{port}").ApplyAsync(new ApplyRequest { Command = new Command() }, deadline: DateTime.UtcNow.Add(Bound)).ResponseAsync);
        await server.WaitAsync(Bound);

        // Unavailable, as for a refused connection (what ServerNode and ServerPool look at), yet not "never sent".
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
        // The request failed on an open connection (reset by peer), not on connecting.
        var cause = Assert.IsType<HttpRequestException>(e.Status.DebugException);
        Assert.NotEqual(HttpRequestError.ConnectionError, cause.HttpRequestError);
        Assert.False(RpcOutcome.NeverSent(e), $"{e.Status}");
    }

    /// <summary>Reads the client preface and frames until one on a request stream carries END_STREAM: the whole request has arrived.</summary>
    private static async Task ReadUntilRequestEndsAsync(Socket socket)
    {
        await ReadExactlyAsync(socket, new byte[24]); // "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        var header = new byte[9];
        while (true)
        {
            await ReadExactlyAsync(socket, header);
            var length = (header[0] << 16) | (header[1] << 8) | header[2];
            var type = header[3];
            var flags = header[4];
            var stream = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & int.MaxValue;
            await ReadExactlyAsync(socket, new byte[length]);
            const byte data = 0, headers = 1, endStream = 1;
            if (stream != 0 && (type is data or headers) && (flags & endStream) != 0)
            {
                return;
            }
        }
    }

    private static async Task ReadExactlyAsync(Socket socket, byte[] buffer)
    {
        for (var read = 0; read < buffer.Length;)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read));
            if (n == 0)
            {
                throw new EndOfStreamException($"the client closed the connection after {read} of {buffer.Length} bytes");
            }

            read += n;
        }
    }
}
