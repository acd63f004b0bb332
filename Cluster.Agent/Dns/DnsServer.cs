using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Cluster.Agent.Dns;

/// <summary>
/// The agent's DNS listener: UDP and TCP on one port. UDP runs a receive thread per core, each with
/// its own buffers; an answer the catalog gives at once is sent from the loop, one that needs an
/// RPC finishes on its own so the loop keeps receiving. TCP takes 2-byte length-prefixed queries
/// (RFC 1035 §4.2.2), several per connection, closes a connection idle for
/// <see cref="DnsOptions.TcpIdleTimeout"/>, and refuses connections beyond
/// <see cref="DnsOptions.MaxTcpConnections"/>.
/// </summary>
public sealed partial class DnsServer : IAsyncDisposable
{
    private readonly DnsResponder _responder;
    private readonly DnsOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<DnsMessageWriter> _writers = [];
    private readonly ConcurrentDictionary<Socket, Task> _connections = new();
    private readonly List<Task> _loops = [];
    private Socket? _udp;
    private Socket? _tcp;
    private int _open;

    public DnsServer(IDnsCatalog catalog, DnsOptions options, ILogger logger, Random? random = null, TimeProvider? time = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _responder = new DnsResponder(new DnsResolver(catalog, options, random ?? new Random(), time ?? TimeProvider.System), options, logger);
    }

    /// <summary>Where both listeners are bound (the port picked when asked for port 0).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)(_tcp ?? throw new InvalidOperationException("not started")).LocalEndPoint!;

    /// <summary>Binds TCP and UDP on <paramref name="endpoint"/> (port 0: a free port both are free on) and starts answering.</summary>
    public void Start(IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Bind(endpoint);
        _tcp!.Listen(128);
        for (var i = 0; i < Math.Max(2, Environment.ProcessorCount); i++)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var thread = new Thread(() =>
            {
                try
                {
                    ReceiveLoop();
                }
                finally
                {
                    done.TrySetResult();
                }
            })
            { IsBackground = true, Name = $"dns-udp-{i}" };
            thread.Start();
            _loops.Add(done.Task);
        }

        _loops.Add(Task.Run(AcceptLoopAsync));
        LogListening(_logger, LocalEndPoint);
    }

    private void Bind(IPEndPoint endpoint)
    {
        // With port 0 the TCP port is picked first; UDP may already be taken there, so try again.
        for (var attempt = 0; ; attempt++)
        {
            var tcp = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            var udp = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                tcp.Bind(endpoint);
                udp.Bind(new IPEndPoint(endpoint.Address, ((IPEndPoint)tcp.LocalEndPoint!).Port));
                // Room for bursts while the receive threads are busy, instead of drops.
                udp.ReceiveBufferSize = 4 << 20;
                (_tcp, _udp) = (tcp, udp);
                return;
            }
            catch (SocketException) when (endpoint.Port == 0 && attempt < 20)
            {
                tcp.Dispose();
                udp.Dispose();
            }
            catch
            {
                tcp.Dispose();
                udp.Dispose();
                throw;
            }
        }
    }

    /// <summary>
    /// One of the UDP receive threads. Blocking calls on a dedicated thread cost less per packet
    /// than async ones (no state machine, no thread-pool hop); disposing the socket ends them.
    /// </summary>
    private void ReceiveLoop()
    {
        var udp = _udp!;
        var token = _stop.Token;
        var buffer = new byte[DnsWire.MaxTcpMessage];
        var address = new SocketAddress(udp.AddressFamily);
        var writer = RentWriter();
        while (!token.IsCancellationRequested)
        {
            int received;
            try
            {
                received = udp.ReceiveFrom(buffer, SocketFlags.None, address);
            }
            catch (SocketException) when (!token.IsCancellationRequested)
            {
                continue; // an ICMP error for an earlier answer surfaces here; it concerns no one now
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            var pending = _responder.RespondAsync(buffer.AsMemory(0, received), writer, tcp: false, token);
            if (pending.IsCompletedSuccessfully)
            {
                if (pending.Result)
                {
                    Send(udp, writer.Written.Span, address);
                }

                continue;
            }

            // The query is read already; the reply needs only the writer and the address.
            var to = new SocketAddress(address.Family, address.Size);
            address.Buffer.CopyTo(to.Buffer);
            _ = FinishAsync(udp, pending, writer, to, token);
            writer = RentWriter();
        }
    }

    private async Task FinishAsync(Socket udp, ValueTask<bool> reply, DnsMessageWriter writer, SocketAddress to, CancellationToken token)
    {
        try
        {
            if (await reply)
            {
                await udp.SendToAsync(writer.Written, SocketFlags.None, to, token);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // UDP is best effort: the client retries.
        }
        finally
        {
            _writers.Add(writer);
        }
    }

    private static void Send(Socket udp, ReadOnlySpan<byte> reply, SocketAddress to)
    {
        try
        {
            udp.SendTo(reply, SocketFlags.None, to);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // UDP is best effort: the client retries.
        }
    }

    private async Task AcceptLoopAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _tcp!.AcceptAsync(token);
            }
            catch (SocketException)
            {
                continue;
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }

            if (Interlocked.Increment(ref _open) > _options.MaxTcpConnections)
            {
                Interlocked.Decrement(ref _open);
                LogTooManyConnections(_logger, _options.MaxTcpConnections);
                client.Dispose();
                continue;
            }

            client.NoDelay = true;
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _connections[client] = gate.Task;
            _ = ServeAsync(client, gate);
        }
    }

    private async Task ServeAsync(Socket client, TaskCompletionSource done)
    {
        var input = ArrayPool<byte>.Shared.Rent(DnsWire.MaxTcpMessage);
        var output = ArrayPool<byte>.Shared.Rent(DnsWire.MaxTcpMessage + 2);
        var writer = RentWriter();
        try
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            while (true)
            {
                idle.CancelAfter(_options.TcpIdleTimeout);
                if (!await ReadExactlyAsync(client, input.AsMemory(0, 2), idle.Token))
                {
                    return;
                }

                var length = BinaryPrimitives.ReadUInt16BigEndian(input);
                if (length == 0 || !await ReadExactlyAsync(client, input.AsMemory(0, length), idle.Token))
                {
                    return;
                }

                if (!await _responder.RespondAsync(input.AsMemory(0, length), writer, tcp: true, _stop.Token))
                {
                    continue;
                }

                var reply = writer.Written;
                BinaryPrimitives.WriteUInt16BigEndian(output, (ushort)reply.Length);
                reply.CopyTo(output.AsMemory(2));
                await client.SendAsync(output.AsMemory(0, reply.Length + 2), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away, stayed idle, or we are stopping.
        }
        finally
        {
            _connections.TryRemove(client, out _);
            client.Dispose();
            Interlocked.Decrement(ref _open);
            _writers.Add(writer);
            ArrayPool<byte>.Shared.Return(input);
            ArrayPool<byte>.Shared.Return(output);
            done.TrySetResult();
        }
    }

    /// <summary>Fills <paramref name="buffer"/>; false if the peer closed first.</summary>
    private static async ValueTask<bool> ReadExactlyAsync(Socket client, Memory<byte> buffer, CancellationToken token)
    {
        while (buffer.Length > 0)
        {
            var read = await client.ReceiveAsync(buffer, SocketFlags.None, token);
            if (read == 0)
            {
                return false;
            }

            buffer = buffer[read..];
        }

        return true;
    }

    private DnsMessageWriter RentWriter() => _writers.TryTake(out var writer) ? writer : new DnsMessageWriter();

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync();
        _udp?.Dispose();
        _tcp?.Dispose();
        foreach (var client in _connections.Keys)
        {
            client.Dispose();
        }

        await Task.WhenAll([.. _loops, .. _connections.Values]);
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "dns: answering on {Endpoint} (udp and tcp)")]
    private static partial void LogListening(ILogger logger, IPEndPoint endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "dns: refused a tcp connection: {Limit} already open")]
    private static partial void LogTooManyConnections(ILogger logger, int limit);
}
