using System.Collections.Concurrent;
using System.Net;
using Legacy.Actors.Remoting.Wire;
using Legacy.Actors.Runtime;
using Cluster.Grpc;
using Cluster.Grpc.Server;
using Microsoft.Extensions.Logging;

namespace Legacy.Actors.Remoting;

/// <summary>
/// Remoting over our gRPC layer: a node's actors reach actors on other nodes through
/// <see cref="ActorRef"/>s that look like local ones. Delivery is at most once: a message is
/// sent once and lost if its stream breaks; between one sender and one recipient order is kept
/// while the stream lives. Death watch crosses nodes, and a peer that goes silent for
/// <see cref="RemoteOptions.NodeLostAfter"/> (or that membership removes) terminates every
/// watch on it.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "Lives as long as its actor system, which stops it (StopAsync) when it terminates.")]
public sealed class RemoteTransport
{
    internal static readonly Method<Frame, Frame> AssociateMethod =
        Method.FromDescriptor<Frame, Frame>(RemotingReflection.Descriptor, "cluster.actors.remoting.v1.Remoting", "Associate");

    private const int RefCacheLimit = 100_000;

    private readonly ConcurrentDictionary<Address, Association> _associations = new();
    private const int AddressCacheLimit = 10_000;
    private readonly ConcurrentDictionary<string, Address> _addresses = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Path, int Uid), ActorRef> _localRefs = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly MessageSerializer _serializer;
    private readonly NodeId _self;
    private GrpcServer? _server;
    private ITimer? _ticker;

    private RemoteTransport(ActorSystem system, RemoteOptions options, ulong incarnation)
    {
        System = system;
        Options = options;
        Address = system.Address;
        Incarnation = incarnation;
        Logger = system.Options.LoggerFactory.CreateLogger("Legacy.Actors.Remoting");
        _serializer = new MessageSerializer(options.Messages);
        _self = new NodeId { System = Address.System, Host = Address.Host, Port = Address.Port, Incarnation = incarnation };
    }

    public ActorSystem System { get; }

    public RemoteOptions Options { get; }

    public Address Address { get; }

    /// <summary>Random per start: peers tell a restarted node from the one they knew.</summary>
    public ulong Incarnation { get; }

    internal TimeProvider Time => System.Time;

    internal ILogger Logger { get; }

    internal CancellationToken Stopping => _stopping.Token;

    /// <summary>
    /// Starts a node: binds the remoting endpoint (port 0 picks one), then creates the actor
    /// system with the bound address, so every path it hands out is reachable.
    /// </summary>
    public static async Task<ActorSystem> StartAsync(string systemName, RemoteOptions remote, ActorSystemOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(remote);
        options ??= new ActorSystemOptions();
        var ready = new TaskCompletionSource<RemoteTransport>(TaskCreationOptions.RunContinuationsAsynchronously);
        var registry = new GrpcServiceRegistry().AddDuplexStreaming(
            AssociateMethod,
            async (requests, responses, context) => await (await ready.Task.WaitAsync(context.CancellationToken)).AcceptAsync(requests, responses, context));
        var server = await GrpcServer.StartAsync(
            [new GrpcEndpoint(new IPEndPoint(IPAddress.Parse(remote.Host), remote.Port))],
            registry,
            new GrpcServerOptions { MaxReceiveMessageSize = FrameLimit(remote), MaxSendMessageSize = FrameLimit(remote) },
            new GrpcHostOptions { MaxStreamsPerConnection = 1000 },
            options.LoggerFactory);
        var port = server.Addresses[0].Port;
        var incarnation = (ulong)options.Random.NextInt64(1, long.MaxValue);
        var system = ActorSystem.Create(systemName, options with { RemoteEndpoint = (remote.Host, port) });
        var transport = new RemoteTransport(system, remote, incarnation) { _server = server };
        system.AttachRemote(transport);
        transport._ticker = system.Time.CreateTimer(static s => ((RemoteTransport)s!).Tick(), transport, remote.HeartbeatInterval, remote.HeartbeatInterval);
        ready.SetResult(transport);
        return system;
    }

    private static int FrameLimit(RemoteOptions options) =>
        checked((options.MaxMessageBytes + 1024) * Math.Min(options.MaxMessagesPerFrame, 64)) > 64 * 1024 * 1024
            ? 64 * 1024 * 1024
            : (options.MaxMessageBytes + 1024) * Math.Min(options.MaxMessagesPerFrame, 64);

    /// <summary>Membership says the node at <paramref name="address"/> is gone: act on it now rather than after the silence timeout.</summary>
    public void NodeRemoved(Address address, string reason = "removed from membership")
    {
        ArgumentNullException.ThrowIfNull(address);
        if (_associations.TryGetValue(address, out var association))
        {
            association.NodeLost(reason);
        }
    }

    /// <summary>True while a stream to <paramref name="address"/> is up.</summary>
    public bool IsConnected(Address address) => _associations.TryGetValue(address, out var a) && a.IsConnected;

    /// <summary>A reference to embed in a protobuf message.</summary>
    public ActorRefData ToData(ActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (actor is not ActorCell && actor.IsLocal)
        {
            System.RegisterTemp(actor); // Ask promises and function refs become reachable by path
        }

        return new ActorRefData { Path = actor.Path.ToString(), Uid = actor.Uid };
    }

    /// <summary>The reference an <see cref="ActorRefData"/> names: local, remote, or dead letters if malformed.</summary>
    public ActorRef FromData(ActorRefData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return RefFor(data.Path, data.Uid) ?? System.DeadLetters;
    }

    internal ActorRef? RefFor(string fullPath, int uid)
    {
        if (!TrySplit(fullPath, out var address, out var localStart))
        {
            return null;
        }

        if (address == Address)
        {
            try
            {
                return System.Resolve(ActorPath.Parse(fullPath), uid);
            }
            catch (Exception exception) when (exception is FormatException or InvalidActorNameException)
            {
                return null;
            }
        }

        return address.HasHost ? new RemoteActorRef(this, address, fullPath[localStart..], uid) : null;
    }

    internal RemoteActorRef RemoteRef(ActorPath path, int uid) => new(this, path.Address, path.ToStringWithoutAddress(), uid, path);

    /// <summary>Splits "cluster://sys@host:port/a/b" into a (cached) address and where the local path starts.</summary>
    private bool TrySplit(string fullPath, out Address address, out int localStart)
    {
        address = null!;
        localStart = 0;
        var schemeEnd = fullPath.IndexOf("://", StringComparison.Ordinal);
        var slash = schemeEnd < 0 ? -1 : fullPath.IndexOf('/', schemeEnd + 3);
        if (slash < 0 || !ActorPath.IsValidLocalPath(fullPath.AsSpan(slash)))
        {
            return false;
        }

        var authority = fullPath.AsSpan(0, slash);
        var lookup = _addresses.GetAlternateLookup<ReadOnlySpan<char>>();
        if (!lookup.TryGetValue(authority, out address!))
        {
            if (!Address.TryParse(authority.ToString(), out address, out var rest) || rest.Length != 0)
            {
                return false;
            }

            if (_addresses.Count < AddressCacheLimit)
            {
                _addresses.TryAdd(authority.ToString(), address);
            }
        }

        localStart = slash;
        return true;
    }

    internal void Send(RemoteActorRef recipient, object message, ActorRef? sender)
    {
        if (_stopping.IsCancellationRequested)
        {
            System.DeadLetter(message, sender, recipient, "remoting stopped");
            return;
        }

        if (!_serializer.TrySerialize(message, Options.MaxMessageBytes, out var type, out var payload, out var error))
        {
            RemotingLog.NotSerializable(Logger, recipient.Path.ToString(), error!);
            System.DeadLetter(message, sender, recipient, error!);
            return;
        }

        var envelope = new UserEnvelope
        {
            Recipient = recipient.LocalPath,
            RecipientUid = recipient.Uid,
            Type = type,
            Payload = payload,
        };
        if (sender is not null && sender != System.DeadLetters)
        {
            envelope.Sender = ToData(sender);
        }

        AssociationFor(recipient.Address).Send(new OutboundMessage(envelope, message, sender, recipient));
    }

    internal void SendSystem(RemoteActorRef target, SystemMessage message)
    {
        var association = AssociationFor(target.Address);
        switch (message)
        {
            case Watch watch when ReferenceEquals(watch.Watchee, target):
                association.AddWatch(target, watch.Watcher);
                association.SendSystem(SystemEnvelopeOf(SystemEnvelope.Types.Kind.Watch, target, watch.Watcher));
                break;
            case Unwatch unwatch when ReferenceEquals(unwatch.Watchee, target):
                association.RemoveWatch(target, unwatch.Watcher);
                association.SendSystem(SystemEnvelopeOf(SystemEnvelope.Types.Kind.Unwatch, target, unwatch.Watcher));
                break;
            case DeathWatchNotification notification:
                // A local actor died and the target (a remote watcher) should hear of it.
                association.RemoveRemoteWatcher(notification.Actor, target);
                var envelope = SystemEnvelopeOf(SystemEnvelope.Types.Kind.DeathWatchNotification, notification.Actor, target);
                envelope.ExistenceConfirmed = notification.ExistenceConfirmed;
                association.SendSystem(envelope);
                break;
            case Terminate:
                association.SendSystem(SystemEnvelopeOf(SystemEnvelope.Types.Kind.Terminate, target, System.DeadLetters));
                break;
        }
    }

    private SystemEnvelope SystemEnvelopeOf(SystemEnvelope.Types.Kind kind, ActorRef watchee, ActorRef watcher) =>
        new() { Kind = kind, Watchee = ToData(watchee), Watcher = ToData(watcher) };

    private Association AssociationFor(Address address) =>
        _associations.GetOrAdd(address, static (a, transport) => new Association(transport, a), this);

    internal Handshake HandshakeTo(Address remote) => new()
    {
        From = _self,
        To = new NodeId { System = remote.System, Host = remote.Host, Port = remote.Port },
    };

    internal static Address AddressOf(NodeId node) => new(node.System, node.Host, node.Port);

    /// <summary>The accepting side of a stream: handshake, then read until it ends.</summary>
    private async Task AcceptAsync(IAsyncStreamReader<Frame> requests, IAsyncStreamWriter<Frame> responses, ServerCallContext context)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, _stopping.Token);
        timeout.CancelAfter(Options.HandshakeTimeout);
        if (!await requests.MoveNext(timeout.Token) || requests.Current.Handshake is not { From: { } from } handshake)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "the first frame must be a handshake"));
        }

        var dialer = AddressOf(from);
        var refusal = handshake.To is null || AddressOf(handshake.To) != Address
            ? $"this node is {Address}, not {(handshake.To is null ? "(none)" : AddressOf(handshake.To))}"
            : !dialer.HasHost || dialer.Port is <= 0 or > 65535 || from.Incarnation == 0 || dialer == Address
                ? "the dialer's address or incarnation is invalid"
                : null;
        var association = refusal is null ? AssociationFor(dialer) : null;
        refusal ??= association!.AdmitIncarnation(from.Incarnation);
        if (refusal is not null)
        {
            RemotingLog.Refused(Logger, dialer.ToString(), refusal);
            await responses.WriteAsync(new Frame { Handshake = new Handshake { From = _self, Accepted = false, Refusal = refusal } }, context.CancellationToken);
            return;
        }

        await responses.WriteAsync(new Frame { Handshake = new Handshake { From = _self, Accepted = true } }, context.CancellationToken);
        var link = new Link(responses, requests, dialer, call: null);
        using var abort = context.CancellationToken.Register(link.Close);
        using var stopping = _stopping.Token.Register(link.Close);
        association!.Install(link);
        await association.ReadLoopAsync(link); // even a tie-break loser is read to its end
    }

    /// <summary>Handles one received frame: death watch first, then messages in order.</summary>
    internal void Receive(Association from, Frame frame)
    {
        foreach (var system in frame.System)
        {
            ReceiveSystem(from, system);
        }

        foreach (var envelope in frame.Messages)
        {
            Deliver(from, envelope);
        }
    }

    private void Deliver(Association from, UserEnvelope envelope)
    {
        var recipient = LocalRecipient(envelope.Recipient, envelope.RecipientUid);
        var sender = envelope.Sender is null ? null : RefFor(envelope.Sender.Path, envelope.Sender.Uid);
        if (!_serializer.TryDeserialize(envelope.Type, envelope.Payload, out var message, out var error))
        {
            RemotingLog.BadMessage(Logger, from.Remote.ToString(), error!);
            System.DeadLetter(envelope, sender, recipient, error!);
            return;
        }

        recipient.Tell(message, sender);
    }

    private void ReceiveSystem(Association from, SystemEnvelope envelope)
    {
        var watchee = envelope.Watchee is null ? null : RefFor(envelope.Watchee.Path, envelope.Watchee.Uid);
        var watcher = envelope.Watcher is null ? null : RefFor(envelope.Watcher.Path, envelope.Watcher.Uid);
        if (watchee is null || watcher is null)
        {
            RemotingLog.BadMessage(Logger, from.Remote.ToString(), $"system envelope {envelope.Kind} with a malformed reference");
            return;
        }

        switch (envelope.Kind)
        {
            case SystemEnvelope.Types.Kind.Watch when watchee.IsLocal && !watcher.IsLocal:
                from.AddRemoteWatcher(watchee, watcher);
                watchee.SendSystem(new Watch(watchee, watcher));
                break;
            case SystemEnvelope.Types.Kind.Unwatch when watchee.IsLocal && !watcher.IsLocal:
                from.RemoveRemoteWatcher(watchee, watcher);
                watchee.SendSystem(new Unwatch(watchee, watcher));
                break;
            case SystemEnvelope.Types.Kind.DeathWatchNotification when watcher.IsLocal && !watchee.IsLocal:
                var watched = from.TakeWatches(watchee, watcher);
                foreach (var held in watched.Count == 0 ? [watchee] : watched)
                {
                    watcher.SendSystem(new DeathWatchNotification(held, envelope.ExistenceConfirmed, addressTerminated: false));
                }

                break;
            case SystemEnvelope.Types.Kind.Terminate when watchee.IsLocal:
                System.Stop(watchee);
                break;
            default:
                RemotingLog.BadMessage(Logger, from.Remote.ToString(), $"unexpected system envelope {envelope.Kind}");
                break;
        }
    }

    private ActorRef LocalRecipient(string pathWithoutAddress, int uid)
    {
        if (_localRefs.TryGetValue((pathWithoutAddress, uid), out var cached) && cached is not ActorCell { IsTerminated: true })
        {
            return cached;
        }

        ActorRef resolved;
        try
        {
            resolved = System.Resolve(ActorPath.Parse(Address + pathWithoutAddress), uid);
        }
        catch (Exception exception) when (exception is FormatException or InvalidActorNameException)
        {
            return System.DeadLetters;
        }

        if (resolved is ActorCell && _localRefs.Count < RefCacheLimit)
        {
            _localRefs[(pathWithoutAddress, uid)] = resolved;
        }

        return resolved;
    }

    private void Tick()
    {
        foreach (var association in _associations.Values)
        {
            try
            {
                association.Tick();
            }
            catch (Exception exception)
            {
                // A timer callback must never throw: that would end the process.
                RemotingLog.TickFailed(Logger, association.Remote.ToString(), exception);
            }
        }
    }

    /// <summary>Simulates a crash for tests: the endpoint and every stream vanish without a goodbye.</summary>
    internal Task AbortForTestsAsync() => ShutDownAsync(leave: false);

    /// <summary>Tells peers we are leaving, closes every stream and stops the endpoint.</summary>
    internal Task StopAsync() => ShutDownAsync(leave: true);

    private async Task ShutDownAsync(bool leave)
    {
        if (_ticker is not null)
        {
            await _ticker.DisposeAsync();
        }

        if (leave)
        {
            await Task.WhenAll(_associations.Values.Select(a => a.LeaveAsync(TimeSpan.FromSeconds(1))));
        }
        else
        {
            foreach (var association in _associations.Values)
            {
                association.Close();
            }
        }

        _stopping.Cancel();
        if (Interlocked.Exchange(ref _server, null) is { } server)
        {
            await server.DisposeAsync();
        }
    }
}
