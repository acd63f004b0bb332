using System.Collections.Concurrent;
using Cluster.Raft.Storage;
using Cluster.Raft.Wire;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using RaftGrpc = Cluster.Raft.Wire.Raft;
using Cluster.Primitives;

namespace Cluster.Raft.Transport;

/// <summary>
/// Raft over gRPC (Grpc.Net.Client out, <see cref="RaftService"/> in). Each server keeps one outbound client stream of message batches
/// to each peer (the peer's answers come back on its own stream to us), so a slow disk on
/// one side never blocks reads on the other. Messages are fire-and-forget: a stream that
/// breaks is redialled with backoff, and what was lost Raft sends again. Snapshots go on their
/// own call, in chunks, checksummed; an interrupted transfer resumes from the bytes the
/// receiver already holds.
/// </summary>
public sealed class RaftTransport : IAsyncDisposable
{
    private readonly ulong _self;
    private readonly string _selfAddress;
    private readonly IRaftInbox _inbox;
    private readonly SnapshotStore _snapshots;
    private readonly string _incoming;
    private readonly RaftTransportOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<ulong, Peer> _peers = new();
    private readonly CancellationTokenSource _stopping = new();
    private long _droppedInbound;
    private long _droppedOutbound;

    public RaftTransport(ulong self, string selfAddress, IRaftInbox inbox, SnapshotStore snapshots, string incomingDirectory, RaftTransportOptions? options, TimeProvider time, ILogger logger)
    {
        _self = self;
        _selfAddress = selfAddress;
        _inbox = inbox ?? throw new ArgumentNullException(nameof(inbox));
        _snapshots = snapshots ?? throw new ArgumentNullException(nameof(snapshots));
        _incoming = incomingDirectory;
        _options = options ?? new RaftTransportOptions();
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        Directory.CreateDirectory(incomingDirectory);
    }

    /// <summary>Messages refused on arrival (not for this server, or malformed).</summary>
    public long DroppedInbound => Interlocked.Read(ref _droppedInbound);

    /// <summary>Messages dropped because a peer's queue was full or its address unknown.</summary>
    public long DroppedOutbound => Interlocked.Read(ref _droppedOutbound);

    /// <summary>Where peers listen (host:port): new ones are dialled, moved ones redialled.</summary>
    public void SetPeers(IReadOnlyDictionary<ulong, string> addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        foreach (var (id, address) in addresses)
        {
            SetPeer(id, address);
        }
    }

    /// <summary>Stops talking to a server that left the configuration.</summary>
    public void Forget(ulong id)
    {
        if (_peers.TryRemove(id, out var peer))
        {
            peer.Dispose();
        }
    }

    private void SetPeer(ulong id, string address)
    {
        if (id == _self || id == 0 || string.IsNullOrEmpty(address) || _stopping.IsCancellationRequested)
        {
            return;
        }

        if (_peers.TryGetValue(id, out var existing))
        {
            if (existing.Address == address)
            {
                return;
            }

            _peers.TryRemove(id, out _);
            existing.Dispose();
        }

        var peer = new Peer(this, id, address);
        if (_peers.TryAdd(id, peer))
        {
            peer.Start();
        }
        else
        {
            peer.Dispose();
        }
    }

    /// <summary>Queues a message for its peer; never blocks.</summary>
    public void Send(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!_peers.TryGetValue(message.To, out var peer))
        {
            Interlocked.Increment(ref _droppedOutbound);
            if (message.Type == MessageType.Snapshot)
            {
                _inbox.SnapshotReported(message.To, delivered: false);
            }

            return;
        }

        if (message.Type == MessageType.Snapshot)
        {
            peer.SendSnapshot(message);
        }
        else
        {
            peer.Enqueue(message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        foreach (var peer in _peers.Values)
        {
            peer.Dispose();
        }

        _peers.Clear();
        _stopping.Dispose();
    }

    internal async Task<StreamClosed> ReceiveStreamAsync(IAsyncStreamReader<MessageBatch> requests, ServerCallContext context)
    {
        while (await requests.MoveNext(context.CancellationToken))
        {
            var batch = requests.Current;
            if (batch.From != 0 && batch.FromAddress.Length > 0 && !_peers.ContainsKey(batch.From))
            {
                SetPeer(batch.From, batch.FromAddress); // a leader we have not heard of yet: answer it
            }

            foreach (var message in batch.Messages)
            {
                if (message.To != _self || message.From == 0 || message.From == _self || message.Type == MessageType.Snapshot)
                {
                    Interlocked.Increment(ref _droppedInbound); // snapshots only arrive through InstallSnapshot
                    continue;
                }

                _inbox.Deliver(message);
            }
        }

        return new StreamClosed();
    }

    internal async Task ReceiveSnapshotAsync(IAsyncStreamReader<SnapshotChunk> requests, IAsyncStreamWriter<SnapshotProgress> responses, ServerCallContext context)
    {
        var token = context.CancellationToken;
        if (!await requests.MoveNext(token))
        {
            return;
        }

        var header = requests.Current;
        var meta = header.Meta;
        if (header.To != _self || header.From == 0 || meta is null || meta.Index == 0 || meta.Term == 0 || meta.Conf is null ||
            header.TotalSize == 0 || header.TotalSize > (ulong)_options.MaxSnapshotBytes)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "a snapshot transfer must start with from, to (this server), its metadata and a size within the limit"));
        }

        var partial = Path.Combine(_incoming, FormattableString.Invariant($"{meta.Term:D20}-{meta.Index:D20}.part"));
        await using (var file = new FileStream(partial, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1 << 16, useAsync: true))
        {
            if ((ulong)file.Length > header.TotalSize)
            {
                file.SetLength(0); // not the transfer we thought: start over
            }

            file.Seek(0, SeekOrigin.End);
            await responses.WriteAsync(new SnapshotProgress { Offset = (ulong)file.Length }, token);
            while ((ulong)file.Length < header.TotalSize && await requests.MoveNext(token))
            {
                var chunk = requests.Current;
                if (chunk.Offset != (ulong)file.Length || (ulong)file.Length + (ulong)chunk.Data.Length > header.TotalSize)
                {
                    throw new RpcException(new Status(StatusCode.InvalidArgument, $"chunk at offset {chunk.Offset} does not continue the {file.Length} bytes held"));
                }

                await file.WriteAsync(chunk.Data.Memory, token);
            }

            if ((ulong)file.Length < header.TotalSize)
            {
                await file.FlushAsync(token);
                return; // interrupted: the next attempt resumes from here
            }
        }

        var data = await File.ReadAllBytesAsync(partial, token);
        File.Delete(partial);
        if (WalRecord.Checksum(0, data) != header.Checksum)
        {
            throw new RpcException(new Status(StatusCode.DataLoss, "the snapshot's checksum does not match; it will be sent again"));
        }

        await _snapshots.SaveAsync(meta.Index, meta.Term, s => s.WriteAsync(data, token).AsTask(), token);
        _inbox.Deliver(new Message { Type = MessageType.Snapshot, From = header.From, To = _self, Term = header.Term, Snapshot = meta });
        await responses.WriteAsync(new SnapshotProgress { Offset = header.TotalSize, Installed = true }, token);
    }

    /// <summary>One peer: its address, its outbound queue, and the stream that drains it.</summary>
    private sealed class Peer(RaftTransport owner, ulong id, string address) : IDisposable
    {
        private readonly ConcurrentQueue<Message> _queue = new();
        private readonly SemaphoreSlim _signal = new(0);
        private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(owner._stopping.Token);
        private readonly GrpcChannel _channel = GrpcChannel.ForAddress(new Uri($"http://{address}"), new GrpcChannelOptions
        {
            // Raft sends snapshots in chunks and batches within MaxBatch: no message nears this.
            MaxReceiveMessageSize = 64 << 20,
            HttpHandler = new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(2),
                // A peer that vanished without a FIN is found in seconds, and its stream redialled.
                KeepAlivePingDelay = TimeSpan.FromSeconds(10),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                EnableMultipleHttp2Connections = true,
                UseProxy = false,
            },
        });

        private int _queued;
        private int _snapshotting;

        public string Address => address;

        public void Start() => _ = Task.Run(() => WriteLoopAsync(_stop.Token));

        public void Enqueue(Message message)
        {
            _queue.Enqueue(message);
            if (Interlocked.Increment(ref _queued) > owner._options.QueueLimit && _queue.TryDequeue(out _))
            {
                Interlocked.Decrement(ref _queued);
                Interlocked.Increment(ref owner._droppedOutbound);
            }

            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }

        public void SendSnapshot(Message message)
        {
            if (Interlocked.Exchange(ref _snapshotting, 1) == 1)
            {
                return; // one transfer at a time; the leader asks again if this one fails
            }

            _ = Task.Run(async () =>
            {
                var delivered = false;
                try
                {
                    delivered = await TransferAsync(message, _stop.Token);
                }
                catch (Exception exception) when (exception is RpcException or IOException or OperationCanceledException or HttpRequestException)
                {
                    owner._logger.SnapshotInterrupted(message.Snapshot.Index, id, exception.Message);
                }
                finally
                {
                    Volatile.Write(ref _snapshotting, 0);
                    owner._inbox.SnapshotReported(id, delivered);
                }
            });
        }

        public void Dispose()
        {
            _stop.Cancel();
            _stop.Dispose();
            _channel.Dispose();
        }

        private async Task WriteLoopAsync(CancellationToken stop)
        {
            var failures = 0;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var call = new RaftGrpc.RaftClient(_channel).Stream(cancellationToken: stop);
                    await call.RequestStream.WriteAsync(new MessageBatch { From = owner._self, FromAddress = owner._selfAddress }, stop);
                    var batch = new MessageBatch();
                    while (true)
                    {
                        await _signal.WaitAsync(stop);
                        while (_queue.TryDequeue(out var message))
                        {
                            Interlocked.Decrement(ref _queued);
                            batch.Messages.Add(message);
                            if (batch.Messages.Count == owner._options.MaxBatch)
                            {
                                await call.RequestStream.WriteAsync(batch, stop);
                                batch = new MessageBatch();
                            }
                        }

                        if (batch.Messages.Count > 0)
                        {
                            await call.RequestStream.WriteAsync(batch, stop);
                            batch = new MessageBatch();
                        }

                        failures = 0;
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception exception) when (exception is RpcException or IOException or HttpRequestException or OperationCanceledException or InvalidOperationException)
                {
                    failures++;
                    if (failures == 1)
                    {
                        owner._logger.StreamBroke(id, address, exception.Message);
                    }

                    var backoff = new Backoff(owner._options.ReconnectMinBackoff, owner._options.ReconnectMaxBackoff).After(failures);
                    try
                    {
                        await Task.Delay(backoff, owner._time, stop);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }
        }

        private async Task<bool> TransferAsync(Message message, CancellationToken stop)
        {
            var meta = message.Snapshot;
            var data = owner._snapshots.Load(meta.Index, meta.Term);
            if (data is null)
            {
                owner._logger.SnapshotGone(meta.Index, meta.Term);
                return false;
            }

            using var stall = CancellationTokenSource.CreateLinkedTokenSource(stop);
            stall.CancelAfter(owner._options.SnapshotStallTimeout);
            using var call = new RaftGrpc.RaftClient(_channel).InstallSnapshot(cancellationToken: stall.Token);
            await call.RequestStream.WriteAsync(new SnapshotChunk
            {
                From = message.From,
                To = id,
                Term = message.Term,
                Meta = meta,
                TotalSize = (ulong)data.Length,
                Checksum = WalRecord.Checksum(0, data),
            }, stall.Token);
            if (!await call.ResponseStream.MoveNext(stall.Token))
            {
                return false;
            }

            var offset = (int)Math.Min(call.ResponseStream.Current.Offset, (ulong)data.Length);
            while (offset < data.Length)
            {
                var length = Math.Min(owner._options.SnapshotChunkBytes, data.Length - offset);
                await call.RequestStream.WriteAsync(new SnapshotChunk { Offset = (ulong)offset, Data = Google.Protobuf.ByteString.CopyFrom(data, offset, length) }, stall.Token);
                offset += length;
                stall.CancelAfter(owner._options.SnapshotStallTimeout);
            }

            await call.RequestStream.CompleteAsync();
            while (await call.ResponseStream.MoveNext(stall.Token))
            {
                if (call.ResponseStream.Current.Installed)
                {
                    return true;
                }
            }

            return false;
        }
    }
}
