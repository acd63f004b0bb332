using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Cluster.Gossip.Core;
using Cluster.Gossip.Security;
using Cluster.Gossip.Wire;
using Google.Protobuf;
using Cluster.Primitives;

namespace Cluster.Gossip.Transport;

/// <summary>
/// Runs a <see cref="GossipNode"/> on real sockets: UDP for packets, TCP on the same port for
/// push-pull and the fallback probe (frames of <c>[kind][u32 length][codec bytes]</c>). The node is
/// touched under one lock; its timers run when the node says they are due (<see cref="GossipNode.NextDue"/>),
/// re-checked whenever input may have moved that time earlier. Every byte from the network goes
/// through the <see cref="PacketCodec"/> first, so undecodable input never reaches the protocol.
/// </summary>
public sealed class GossipHost : IAsyncDisposable
{
    private const byte FramePacket = 1;
    private const byte FramePushPull = 2;
    private static readonly TimeSpan TcpTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxSleep = TimeSpan.FromMilliseconds(100);

    private readonly GossipNode _node;
    private readonly PacketCodec _codec;
    private readonly TimeProvider _time;
    private readonly long _start;
    private readonly Lock _gate = new();
    private readonly UdpClient _udp;
    private readonly TcpListener _tcp;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];
    private readonly List<MembershipEvent> _events = [];
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly Dictionary<ulong, QueryCollector> _collectors = [];
    private readonly ChangeSignal _changed = new();

    private GossipHost(GossipOptions options, PacketCodec codec, TimeProvider time, Random random, UdpClient udp, TcpListener tcp)
    {
        _codec = codec;
        _time = time;
        _start = time.GetTimestamp();
        _udp = udp;
        _tcp = tcp;
        _node = new GossipNode(options, random, TimeSpan.Zero);
    }

    public string Address { get; private init; } = "";

    /// <summary>
    /// Completes after the member next handles anything (a packet, a timer, a call). Take it, look
    /// at the state, then await it: a waiter never misses a change and never polls.
    /// </summary>
    public Task Changed => _changed.Next;

    public long DroppedPackets => _codec.Dropped;

    /// <summary>Answers a query from any member (this one included); null sends no answer. Runs outside the member's lock.</summary>
    public Func<Query, ByteString?>? OnQuery { get; set; }

    /// <summary>Receives each user event once (this member's own included).</summary>
    public Action<UserEvent>? OnUserEvent { get; set; }

    /// <summary>
    /// Binds UDP and TCP on <paramref name="bind"/> (port 0 picks one, the same for both) and
    /// starts a member whose address is the bound one.
    /// </summary>
    public static GossipHost Start(IPEndPoint bind, Func<string, GossipOptions> options, Keyring? keyring, string label, TimeProvider? time = null, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(bind);
        ArgumentNullException.ThrowIfNull(options);
        for (var attempt = 0; ; attempt++)
        {
            var udp = new UdpClient(bind);
            var port = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
            var tcp = new TcpListener(bind.Address, port);
            try
            {
                tcp.Start();
            }
            catch (SocketException) when (bind.Port == 0 && attempt < 10)
            {
                udp.Dispose(); // the TCP side of that port is taken: pick another
                continue;
            }
            catch
            {
                udp.Dispose();
                throw;
            }

            var address = $"{bind.Address}:{port}";
            time ??= TimeProvider.System;

            // Node time starts at zero here; the wall clock lines its probe rounds up with other hosts'.
            var settings = options(address) with { ClockOffset = time.GetUtcNow() - DateTimeOffset.UnixEpoch };
            var host = new GossipHost(settings, new PacketCodec(keyring, label), time, random ?? new Random(), udp, tcp) { Address = address };
            host._loops.Add(Task.Run(host.ReceiveUdpAsync));
            host._loops.Add(Task.Run(host.AcceptTcpAsync));
            host._loops.Add(Task.Run(host.TickAsync));
            return host;
        }
    }

    public void Join(IEnumerable<string> addresses) => Do(node => node.Join(addresses));

    /// <summary>
    /// Joins through each address with a full-state exchange and returns how many answered
    /// (Consul's join reports the same); zero means this member is still alone.
    /// </summary>
    public async Task<int> JoinAsync(IEnumerable<string> addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        var attempts = addresses.Where(a => a != Address).Distinct().Select(async address =>
        {
            try
            {
                PushPull local = null!;
                Do(node => local = node.LocalState(join: true));
                return await TcpAsync(address, FramePushPull, local, expectReply: true);
            }
            catch (Exception exception) when (exception is IOException or OperationCanceledException or SocketException or InvalidDataException or FormatException)
            {
                return false;
            }
        });
        return (await Task.WhenAll(attempts)).Count(joined => joined);
    }

    public void UpdateTags(IReadOnlyDictionary<string, string> tags) => Do(node => node.UpdateTags(tags));

    public void SendUserEvent(string name, ByteString payload) => Do(node => node.SendUserEvent(name, payload));

    /// <summary>
    /// Asks every member and collects answers until every member that was alive when it was
    /// asked has answered, or the query times out; the answers come back either way.
    /// </summary>
    public async Task<QueryResult> QueryAsync(string name, ByteString payload)
    {
        QueryCollector collector = null!;
        TimeSpan timeout = default;
        ulong id = 0;
        Do(node =>
        {
            timeout = node.QueryTimeout;
            var expected = node.Members.Where(m => m.Status is MemberStatus.Alive or MemberStatus.Suspect).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
            collector = new QueryCollector(expected);
            lock (_collectors)
            {
                id = node.SendQuery(name, payload);
                _collectors[id] = collector;
            }
        });

        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        await Task.WhenAny(collector.Done.Task, Task.Delay(timeout, _time, giveUp.Token)).ConfigureAwait(false);
        await giveUp.CancelAsync().ConfigureAwait(false);
        lock (_collectors)
        {
            _collectors.Remove(id);
        }

        return collector.Result();
    }

    public void Leave() => Do(node => node.Leave());

    public IReadOnlyList<Member> Members
    {
        get
        {
            lock (_gate)
            {
                return _node.Members;
            }
        }
    }

    public Member? Find(string name)
    {
        lock (_gate)
        {
            return _node.Find(name);
        }
    }

    public List<MembershipEvent> TakeEvents()
    {
        lock (_gate)
        {
            var taken = _events.ToList();
            _events.Clear();
            return taken;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _udp.Dispose();
        _tcp.Stop();
        try
        {
            await Task.WhenAll(_loops);
        }
        catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }

        _stopping.Dispose();
        _wake.Dispose();
    }

    private TimeSpan Now => _time.GetElapsedTime(_start);

    private void Do(Action<GossipNode> action, bool wake = true)
    {
        List<Outgoing> outbox;
        List<Query> queries;
        List<UserEvent> userEvents;
        List<QueryAnswer> answers;
        lock (_gate)
        {
            action(_node);
            outbox = _node.TakeOutbox();
            _events.AddRange(_node.TakeEvents());
            queries = _node.TakeQueries();
            userEvents = _node.TakeUserEvents();
            answers = _node.TakeAnswers();
        }

        Deliver(queries, userEvents, answers);

        _changed.Fire();

        if (wake && _wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release(); // the next due time may have moved earlier
            }
            catch (SemaphoreFullException)
            {
            }
        }

        foreach (var outgoing in outbox)
        {
            _ = SendAsync(outgoing);
        }
    }

    private void Deliver(List<Query> queries, List<UserEvent> userEvents, List<QueryAnswer> answers)
    {
        foreach (var userEvent in userEvents)
        {
            OnUserEvent?.Invoke(userEvent);
        }

        foreach (var answer in answers)
        {
            lock (_collectors)
            {
                if (_collectors.TryGetValue(answer.Lamport, out var collector) && collector.Add(answer))
                {
                    _collectors.Remove(answer.Lamport);
                }
            }
        }

        foreach (var query in queries)
        {
            if (OnQuery?.Invoke(query) is { } reply)
            {
                Do(node => node.Respond(query, reply));
            }
        }
    }

    private async Task TickAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TimeSpan due;
            lock (_gate)
            {
                due = _node.NextDue;
            }

            var wait = due - Now;
            if (wait > TimeSpan.Zero)
            {
                // Bounded, so a clock that jumps or a missed wake costs at most this much.
                using var waiting = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                var woken = _wake.WaitAsync(waiting.Token);
                await Task.WhenAny(woken, Task.Delay(wait < MaxSleep ? wait : MaxSleep, _time, waiting.Token));
                await waiting.CancelAsync();
                continue;
            }

            var now = Now;
            Do(node => node.Tick(now), wake: false);
        }
    }

    private async Task ReceiveUdpAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            UdpReceiveResult received;
            try
            {
                received = await _udp.ReceiveAsync(_stopping.Token);
            }
            catch (SocketException)
            {
                continue; // ICMP port unreachable from an earlier send surfaces here on Linux
            }

            if (_codec.DecodePacket(received.Buffer) is { } packet)
            {
                var now = Now;
                Do(node => node.Receive(packet, now));
            }
        }
    }

    private async Task AcceptTcpAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            var client = await _tcp.AcceptTcpClientAsync(_stopping.Token);
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                    timeout.CancelAfter(TcpTimeout);
                    try
                    {
                        await ServeTcpAsync(client.GetStream(), timeout.Token);
                    }
                    catch (Exception exception) when (exception is IOException or OperationCanceledException or SocketException or InvalidDataException)
                    {
                        // a broken or hostile stream ends here; the member carries on
                    }
                }
            });
        }
    }

    private async Task ServeTcpAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var (kind, payload) = await ReadFrameAsync(stream, cancellationToken);
        var now = Now;
        if (kind == FramePacket && _codec.DecodePacket(payload) is { } packet)
        {
            Do(node => node.Receive(packet, now, reliable: true));
        }
        else if (kind == FramePushPull && _codec.DecodePushPull(payload) is { } remote)
        {
            PushPull local = null!;
            Do(node =>
            {
                local = node.LocalState(remote.Join);
                node.Merge(remote, now);
            });
            await WriteFrameAsync(stream, FramePushPull, _codec.Encode(local), cancellationToken);
        }
    }

    private async Task SendAsync(Outgoing outgoing)
    {
        try
        {
            switch (outgoing)
            {
                case SendPacket send:
                    await _udp.SendAsync(_codec.Encode(send.Packet), Endpoint(send.Address), _stopping.Token);
                    break;
                case SendReliable reliable:
                    await TcpAsync(reliable.Address, FramePacket, reliable.Packet, expectReply: false);
                    break;
                case StartPushPull pushPull:
                    PushPull local = null!;
                    Do(node => local = node.LocalState(pushPull.Join));
                    await TcpAsync(pushPull.Address, FramePushPull, local, expectReply: true);
                    break;
            }
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or SocketException or ObjectDisposedException or InvalidDataException or FormatException)
        {
            // Unreachable peers are what the protocol is for; nothing to do here.
        }
    }

    private async Task<bool> TcpAsync(string address, byte kind, IMessage message, bool expectReply)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        timeout.CancelAfter(TcpTimeout);
        using var client = new TcpClient();
        await client.ConnectAsync(Endpoint(address), timeout.Token);
        var stream = client.GetStream();
        await WriteFrameAsync(stream, kind, _codec.Encode(message), timeout.Token);
        if (expectReply)
        {
            var (_, payload) = await ReadFrameAsync(stream, timeout.Token);
            if (_codec.DecodePushPull(payload) is not { } remote)
            {
                return false;
            }

            var now = Now;
            Do(node => node.Merge(remote, now));
        }

        return true;
    }

    private static IPEndPoint Endpoint(string address) => IPEndPoint.Parse(address);

    private sealed class QueryCollector(HashSet<string> expected)
    {
        private readonly Dictionary<string, ByteString> _answers = new(StringComparer.Ordinal);

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Records an answer; true once everyone expected has answered.</summary>
        public bool Add(QueryAnswer answer)
        {
            lock (_answers)
            {
                _answers[answer.From] = answer.Payload;
                if (expected.IsSubsetOf(_answers.Keys))
                {
                    Done.TrySetResult();
                    return true;
                }

                return false;
            }
        }

        public QueryResult Result()
        {
            lock (_answers)
            {
                return new QueryResult(new Dictionary<string, ByteString>(_answers), [.. expected.Where(e => !_answers.ContainsKey(e)).Order(StringComparer.Ordinal)]);
            }
        }
    }

    private static async Task WriteFrameAsync(Stream stream, byte kind, byte[] payload, CancellationToken cancellationToken)
    {
        var header = new byte[5];
        header[0] = kind;
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(1), (uint)payload.Length);
        await stream.WriteAsync(header, cancellationToken);
        await stream.WriteAsync(payload, cancellationToken);
    }

    private static async Task<(byte Kind, byte[] Payload)> ReadFrameAsync(Stream stream, CancellationToken cancellationToken)
    {
        var header = new byte[5];
        await stream.ReadExactlyAsync(header, cancellationToken);
        var length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
        if (length > 16 << 20)
        {
            throw new InvalidDataException($"a {length}-byte gossip frame is over the limit");
        }

        var payload = new byte[length];
        await stream.ReadExactlyAsync(payload, cancellationToken);
        return (header[0], payload);
    }
}
