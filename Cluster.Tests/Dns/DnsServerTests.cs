using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Cluster.Agent.Dns;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Tests.Dns;

/// <summary>The listener over loopback sockets: one port for UDP and TCP, several queries per TCP connection, the connection limit, disposal.</summary>
public sealed class DnsServerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static DnsServer Start(DnsOptions? options = null)
    {
        var catalog = new InMemoryDnsCatalog();
        for (var i = 0; i < 300; i++)
        {
            catalog.Service("big", new($"n{i}", $"10.0.{i / 250}.{(i % 250) + 1}", "", 80, [], DnsHealth.Passing));
        }

        var server = new DnsServer(catalog, options ?? new DnsOptions { Datacenter = "dc1" }, NullLogger.Instance, new Random(7));
        server.Start(new IPEndPoint(IPAddress.Loopback, 0));
        return server;
    }

    [Fact]
    public async Task Udp_and_tcp_answer_on_the_same_port()
    {
        await using var server = Start();
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        using var cancel = new CancellationTokenSource(Bound);
        await udp.SendToAsync(DnsTestWire.Query("big.service.consul", DnsType.A, id: 1), server.LocalEndPoint, cancel.Token);
        var buffer = new byte[4096];
        var received = await udp.ReceiveAsync(buffer, cancel.Token);
        var response = DnsTestWire.Decode(buffer.AsSpan(0, received));
        Assert.Equal(1, response.Id);
        Assert.True(response.Truncated);

        using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await tcp.ConnectAsync(server.LocalEndPoint, cancel.Token);
        // Two queries written back to back, then two answers read, on one connection.
        await tcp.SendAsync(Framed(DnsTestWire.Query("big.service.consul", DnsType.A, id: 2)), cancel.Token);
        await tcp.SendAsync(Framed(DnsTestWire.Query("n1.node.consul", DnsType.A, id: 3)), cancel.Token);
        var first = await ReadFramedAsync(tcp, cancel.Token);
        var second = await ReadFramedAsync(tcp, cancel.Token);
        Assert.Equal((2, false, 300), (first.Id, first.Truncated, first.Answers.Count));
        Assert.Equal((3, "10.0.0.2"), (second.Id, Assert.Single(second.Answers).Data));
    }

    [Fact]
    public async Task Connections_beyond_the_limit_are_closed_and_the_others_keep_working()
    {
        await using var server = Start(new DnsOptions { Datacenter = "dc1", MaxTcpConnections = 1 });
        using var cancel = new CancellationTokenSource(Bound);
        using var held = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await held.ConnectAsync(server.LocalEndPoint, cancel.Token);
        await held.SendAsync(Framed(DnsTestWire.Query("n1.node.consul", DnsType.A, id: 1)), cancel.Token);
        Assert.Equal(1, (await ReadFramedAsync(held, cancel.Token)).Id); // served: it counts

        using var extra = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await extra.ConnectAsync(server.LocalEndPoint, cancel.Token);
        Assert.Equal(0, await extra.ReceiveAsync(new byte[16], cancel.Token)); // closed by the server

        await held.SendAsync(Framed(DnsTestWire.Query("n2.node.consul", DnsType.A, id: 2)), cancel.Token);
        Assert.Equal(2, (await ReadFramedAsync(held, cancel.Token)).Id);
    }

    [Fact]
    public async Task A_zero_length_or_cut_frame_closes_the_connection()
    {
        await using var server = Start();
        using var cancel = new CancellationTokenSource(Bound);
        using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await tcp.ConnectAsync(server.LocalEndPoint, cancel.Token);
        await tcp.SendAsync(new byte[] { 0, 0 }, cancel.Token);
        Assert.Equal(0, await tcp.ReceiveAsync(new byte[16], cancel.Token));
    }

    private static byte[] Framed(byte[] query) => [(byte)(query.Length >> 8), (byte)query.Length, .. query];

    private static async Task<TestResponse> ReadFramedAsync(Socket tcp, CancellationToken token)
    {
        var length = new byte[2];
        await ReadExactlyAsync(tcp, length, token);
        var message = new byte[BinaryPrimitives.ReadUInt16BigEndian(length)];
        await ReadExactlyAsync(tcp, message, token);
        return DnsTestWire.Decode(message);
    }

    private static async Task ReadExactlyAsync(Socket tcp, Memory<byte> buffer, CancellationToken token)
    {
        while (buffer.Length > 0)
        {
            var read = await tcp.ReceiveAsync(buffer, token);
            Assert.NotEqual(0, read);
            buffer = buffer[read..];
        }
    }
}
