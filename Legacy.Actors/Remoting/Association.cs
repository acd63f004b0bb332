using System.Threading.Channels;
using Legacy.Actors.Remoting.Wire;
using Legacy.Actors.Runtime;
using Cluster.Grpc.Client;

namespace Legacy.Actors.Remoting;

/// <summary>A message waiting for a peer, with what dead letters need if it never gets there.</summary>
internal sealed record OutboundMessage(UserEnvelope Envelope, object Message, ActorRef? Sender, ActorRef Recipient);

/// <summary>
/// Everything this node knows about one peer address: the stream in use, the queue feeding it
/// (one writer loop, so per-pair order holds), the peer's incarnation, when we last heard from
/// it, and the death watches that cross to it. State changes take <see cref="_lock"/>; sending
/// is a lock-free channel write.
/// </summary>
internal sealed class Association
{
    private static readonly object HeartbeatMarker = new();
    private static readonly object LeavingMarker = new();

    private readonly RemoteTransport _transport;
    private readonly RemoteOptions _options;
    private readonly Channel<object> _outbound;
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _leaveSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HashSet<(ActorRef Watchee, ActorRef Watcher)> _watching = [];
    private readonly HashSet<(ActorRef Watchee, ActorRef Watcher)> _watchedBy = [];
    private Link? _link;
    private Task? _writer;
    private GrpcChannel? _channel;
    private ulong _incarnation;
    private ulong _quarantined;
    private long _lastHeard;
    private int _dialFailures;
    private int _queuedMessages;

    public Association(RemoteTransport transport, Address remote)
    {
        _transport = transport;
        _options = transport.Options;
        Remote = remote;
        // Single-reader unbounded: writes are lock-free (the bounded and multi-reader channels take a
        // lock per message). The capacity is enforced with our own count.
        _outbound = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
        _lastHeard = transport.Time.GetTimestamp();
    }

    public Address Remote { get; }

    public ulong Incarnation
    {
        get
        {
            lock (_lock)
            {
                return _incarnation;
            }
        }
    }

    public bool IsConnected
    {
        get
        {
            lock (_lock)
            {
                return _link is { IsLive: true };
            }
        }
    }

    public void Send(OutboundMessage message)
    {
        if (Interlocked.Increment(ref _queuedMessages) > _options.OutboundQueueCapacity || !_outbound.Writer.TryWrite(message))
        {
            Interlocked.Decrement(ref _queuedMessages);
            _transport.System.DeadLetter(message.Message, message.Sender, message.Recipient, $"outbound queue to {Remote} is full");
            return;
        }

        EnsureWriter();
    }

    public void SendSystem(SystemEnvelope envelope)
    {
        // System traffic is small and rare: it is never counted against the capacity, never dropped.
        _outbound.Writer.TryWrite(envelope);

        EnsureWriter();
    }

    public void AddWatch(ActorRef watchee, ActorRef watcher)
    {
        lock (_lock)
        {
            _watching.Add((watchee, watcher));
        }
    }

    public void RemoveWatch(ActorRef watchee, ActorRef watcher)
    {
        lock (_lock)
        {
            _watching.Remove((watchee, watcher));
        }
    }

    /// <summary>
    /// Removes and returns the watches <paramref name="watcher"/> holds on the actor that died,
    /// as the watcher knows it: a ref resolved by path alone (uid 0) matches the incarnation that died.
    /// </summary>
    public List<ActorRef> TakeWatches(ActorRef died, ActorRef watcher)
    {
        lock (_lock)
        {
            var matches = _watching
                .Where(w => w.Watcher.Equals(watcher) && (w.Watchee.Uid == 0 || w.Watchee.Uid == died.Uid) && w.Watchee.Path.Equals(died.Path))
                .ToList();
            foreach (var match in matches)
            {
                _watching.Remove(match);
            }

            return [.. matches.Select(m => m.Watchee)];
        }
    }

    public void AddRemoteWatcher(ActorRef localWatchee, ActorRef remoteWatcher)
    {
        lock (_lock)
        {
            _watchedBy.Add((localWatchee, remoteWatcher));
        }
    }

    public void RemoveRemoteWatcher(ActorRef localWatchee, ActorRef remoteWatcher)
    {
        lock (_lock)
        {
            _watchedBy.Remove((localWatchee, remoteWatcher));
        }
    }

    public void Heard() => Volatile.Write(ref _lastHeard, _transport.Time.GetTimestamp());

    /// <summary>Periodic: heartbeat the peer if we care about it, and declare it lost if it went quiet.</summary>
    public void Tick()
    {
        bool interested;
        lock (_lock)
        {
            interested = _link is { IsLive: true } || _watching.Count > 0 || Volatile.Read(ref _queuedMessages) > 0;
        }

        if (!interested)
        {
            Heard(); // nothing at stake: the silence clock starts when something is
            return;
        }

        var silent = _transport.Time.GetElapsedTime(Volatile.Read(ref _lastHeard));
        if (silent >= _options.NodeLostAfter)
        {
            NodeLost($"not heard from for {silent.TotalSeconds:F1} s");
            return;
        }

        _outbound.Writer.TryWrite(HeartbeatMarker);
        EnsureWriter();
    }

    /// <summary>Tells the peer we are leaving, waits briefly for the frame to go, and closes.</summary>
    public async Task LeaveAsync(TimeSpan grace)
    {
        Link? link;
        lock (_lock)
        {
            link = _link is { IsLive: true } ? _link : null;
        }

        if (link is not null && _outbound.Writer.TryWrite(LeavingMarker))
        {
            EnsureWriter();
            // Done when the frame is written, the stream breaks, or the grace runs out.
            var giveUp = Task.Delay(grace, _transport.Time, link.Closed);
            await Task.WhenAny(_leaveSent.Task, giveUp);
        }

        Close();
    }

    public void Close()
    {
        Link? link;
        lock (_lock)
        {
            link = _link;
            _link = null;
        }

        link?.Close();
        _outbound.Writer.TryComplete();
        _channel?.Dispose();
    }

    /// <summary>
    /// The peer (its current incarnation) is gone: watchers hear Terminated(AddressTerminated),
    /// queued messages go to dead letters, and that incarnation is refused from now on.
    /// </summary>
    public void NodeLost(string reason)
    {
        Link? link;
        (ActorRef Watchee, ActorRef Watcher)[] watching;
        (ActorRef Watchee, ActorRef Watcher)[] watchedBy;
        lock (_lock)
        {
            if (_incarnation != 0)
            {
                _quarantined = _incarnation;
            }

            _incarnation = 0;
            link = _link;
            _link = null;
            watching = [.. _watching];
            watchedBy = [.. _watchedBy];
            _watching.Clear();
            _watchedBy.Clear();
        }

        link?.Close();
        Heard();
        DrainToDeadLetters($"{Remote} is unreachable ({reason})");
        foreach (var (watchee, watcher) in watching)
        {
            watcher.SendSystem(new DeathWatchNotification(watchee, existenceConfirmed: true, addressTerminated: true));
        }

        foreach (var (watchee, watcher) in watchedBy)
        {
            watchee.SendSystem(new Unwatch(watchee, watcher));
        }

        RemotingLog.NodeLost(_transport.Logger, Remote.ToString(), reason, watching.Length);
        _transport.System.EventStream.Publish(new AddressTerminated(Remote, reason));
    }

    /// <summary>Checks an incoming handshake's incarnation; null when accepted, else the refusal.</summary>
    public string? AdmitIncarnation(ulong incarnation)
    {
        bool restarted;
        lock (_lock)
        {
            if (incarnation == _quarantined)
            {
                return "quarantined: this incarnation was declared lost; restart the node to rejoin";
            }

            restarted = _incarnation != 0 && _incarnation != incarnation;
        }

        if (restarted)
        {
            NodeLost("restarted with a new incarnation");
        }

        lock (_lock)
        {
            _incarnation = incarnation;
        }

        return null;
    }

    /// <summary>Makes <paramref name="link"/> the stream in use unless a preferred one is already live.</summary>
    public void Install(Link link)
    {
        Link? loser;
        lock (_lock)
        {
            if (_link is { IsLive: true } current && !ReferenceEquals(current, link))
            {
                var winner = Link.Preferred(current, link);
                loser = ReferenceEquals(winner, current) ? link : current;
                _link = winner;
            }
            else
            {
                loser = null;
                _link = link;
            }

            _dialFailures = 0;
        }

        Heard();
        if (loser is not null)
        {
            // Same-side re-dial: the old stream is simply replaced. Tie-break: drain, do not drop.
            if (loser.DialedBy == (ReferenceEquals(loser, link) ? _link!.DialedBy : link.DialedBy))
            {
                loser.Close();
            }
            else
            {
                _ = loser.RetireAsync(_options.HandshakeTimeout);
            }
        }

    }

    public void Broken(Link link)
    {
        lock (_lock)
        {
            if (ReferenceEquals(_link, link))
            {
                _link = null;
            }
        }

        link.Close();
    }

    private void EnsureWriter()
    {
        if (_writer is { IsCompleted: false })
        {
            return;
        }

        lock (_lock)
        {
            if (_writer is null || _writer.IsCompleted)
            {
                _writer = Task.Run(WriteLoopAsync);
            }
        }
    }

    private async Task WriteLoopAsync()
    {
        var reader = _outbound.Reader;
        var stopping = _transport.Stopping;
        try
        {
            while (await reader.WaitToReadAsync(stopping))
            {
                var link = await EnsureLinkAsync(stopping);
                if (link is null)
                {
                    continue;
                }

                var frame = new Frame();
                var taken = new List<OutboundMessage>();
                var leaving = false;
                while (frame.Messages.Count < _options.MaxMessagesPerFrame && reader.TryRead(out var item))
                {
                    switch (item)
                    {
                        case OutboundMessage message:
                            Interlocked.Decrement(ref _queuedMessages);
                            frame.Messages.Add(message.Envelope);
                            taken.Add(message);
                            break;
                        case SystemEnvelope system:
                            frame.System.Add(system);
                            break;
                        default:
                            frame.Heartbeat = true;
                            leaving |= ReferenceEquals(item, LeavingMarker);
                            break;
                    }
                }

                frame.Leaving = leaving;
                try
                {
                    if (!await link.WriteAsync(frame))
                    {
                        // Retired by a tie-break while we held it: the frame goes on the winner.
                        link = await EnsureLinkAsync(stopping);
                        if (link is null || !await link.WriteAsync(frame))
                        {
                            throw new IOException($"no stream to {Remote} for a frame taken from the queue");
                        }
                    }

                    if (leaving)
                    {
                        _leaveSent.TrySetResult();
                    }
                }
                catch (Exception exception) when (!stopping.IsCancellationRequested)
                {
                    // At most once: what was in this frame is lost with the stream.
                    RemotingLog.StreamEnded(_transport.Logger, Remote.ToString(), exception.Message);
                    if (link is not null)
                    {
                        Broken(link);
                    }

                    foreach (var message in taken)
                    {
                        _transport.System.DeadLetter(message.Message, message.Sender, message.Recipient, $"stream to {Remote} broke");
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (ChannelClosedException)
        {
        }
    }

    /// <summary>The live stream, dialing (with backoff) when there is none; null to re-check the queue.</summary>
    private async Task<Link?> EnsureLinkAsync(CancellationToken stopping)
    {
        while (true)
        {
            lock (_lock)
            {
                if (_link is { IsLive: true } live)
                {
                    return live;
                }
            }

            if (!_outbound.Reader.TryPeek(out _))
            {
                return null; // dropped while we waited (node lost): nothing to send
            }

            try
            {
                var link = await DialAsync(stopping);
                Install(link);
                _ = ReadLoopAsync(link); // even a tie-break loser is read to its end

                continue;
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !stopping.IsCancellationRequested)
            {
                int failures;
                lock (_lock)
                {
                    failures = ++_dialFailures;
                }

                RemotingLog.DialFailed(_transport.Logger, Remote.ToString(), exception.Message);
                var backoff = TimeSpan.FromTicks(Math.Min(
                    _options.ReconnectMaxBackoff.Ticks,
                    _options.ReconnectMinBackoff.Ticks * (1L << Math.Min(failures - 1, 20))));
                await Task.Delay(backoff, _transport.Time, stopping);
            }
        }
    }

    private async Task<Link> DialAsync(CancellationToken stopping)
    {
        _channel ??= GrpcChannel.ForAddress(new Uri($"http://{FormatHost(Remote.Host!)}:{Remote.Port}"));
        using var handshakeTimeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        handshakeTimeout.CancelAfter(_options.HandshakeTimeout);
        var call = _channel.DuplexStreaming(RemoteTransport.AssociateMethod, new CallOptions(CancellationToken: stopping));
        try
        {
            await call.RequestStream.WriteAsync(new Frame { Handshake = _transport.HandshakeTo(Remote) }, handshakeTimeout.Token);
            if (!await call.ResponseStream.MoveNext(handshakeTimeout.Token) || call.ResponseStream.Current.Handshake is not { } reply)
            {
                throw new IOException($"{Remote} closed the stream without a handshake");
            }

            if (!reply.Accepted)
            {
                if (reply.Refusal.StartsWith("quarantined", StringComparison.Ordinal))
                {
                    NodeLost($"it quarantined us: {reply.Refusal}");
                }

                throw new IOException($"{Remote} refused the association: {reply.Refusal}");
            }

            if (RemoteTransport.AddressOf(reply.From) != Remote)
            {
                throw new IOException($"{Remote} answered as {RemoteTransport.AddressOf(reply.From)}");
            }

            if (AdmitIncarnation(reply.From.Incarnation) is { } refusal)
            {
                DrainToDeadLetters($"{Remote} is {refusal}");
                throw new IOException(refusal);
            }

            return new Link(call.RequestStream, call.ResponseStream, _transport.Address, call);
        }
        catch
        {
            call.Dispose();
            throw;
        }
    }

    /// <summary>Reads one stream until it ends; any frame counts as a sign of life.</summary>
    public async Task ReadLoopAsync(Link link)
    {
        try
        {
            while (await link.Reader.MoveNext(link.Closed))
            {
                Heard();
                var frame = link.Reader.Current;
                _transport.Receive(this, frame);
                if (frame.Leaving)
                {
                    NodeLost("it left");
                    break;
                }
            }
        }
        catch (Exception exception)
        {
            // Whatever ended it (reset, cancel, malformed frame), the stream is done; traffic re-dials.
            RemotingLog.StreamEnded(_transport.Logger, Remote.ToString(), exception.Message);
        }
        finally
        {
            Broken(link);
        }
    }

    private void DrainToDeadLetters(string reason)
    {
        while (_outbound.Reader.TryRead(out var item))
        {
            if (item is OutboundMessage message)
            {
                Interlocked.Decrement(ref _queuedMessages);
                _transport.System.DeadLetter(message.Message, message.Sender, message.Recipient, reason);
            }
        }
    }

    private static string FormatHost(string host) => host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
}
