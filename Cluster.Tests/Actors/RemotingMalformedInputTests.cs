using Legacy.Actors;
using Legacy.Actors.Remoting;
using Legacy.Actors.Remoting.Wire;
using Cluster.Grpc;
using Cluster.Grpc.Client;
using Cluster.Testing.Actors;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Cluster.Tests.Actors;

/// <summary>A hostile or broken peer speaking to a node's remoting endpoint directly.</summary>
public sealed class RemotingMalformedInputTests : IAsyncLifetime
{
    private ActorSystem _node = null!;
    private GrpcChannel _channel = null!;
    private TestProbe _dead = null!;
    private TestProbe _probe = null!;

    public async Task InitializeAsync()
    {
        _node = await RemoteTransport.StartAsync("mesh", new RemoteOptions());
        _channel = GrpcChannel.ForAddress(new Uri($"http://127.0.0.1:{_node.Address.Port}"));
        _dead = TestProbe.Real(_node);
        _node.EventStream.Subscribe(_dead.Ref, typeof(DeadLetter));
        _probe = TestProbe.Real(_node);
        _node.ActorOf(Props.Create(() => new Forwarder(_probe.Ref)), "target");
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _node.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
    }

    private static NodeId Peer(ulong incarnation = 7) => new() { System = "mesh", Host = "127.0.0.1", Port = 1, Incarnation = incarnation };

    private NodeId Self => new() { System = "mesh", Host = "127.0.0.1", Port = _node.Address.Port };

    private async Task<DuplexStreamingCall<Frame, Frame>> AssociateAsync(Handshake handshake)
    {
        var call = _channel.DuplexStreaming(RemoteTransport.AssociateMethod, CallOptions.WithTimeout(TimeSpan.FromSeconds(30)));
        await call.RequestStream.WriteAsync(new Frame { Handshake = handshake });
        return call;
    }

    private static async Task<Handshake> ReplyAsync(DuplexStreamingCall<Frame, Frame> call)
    {
        Assert.True(await call.ResponseStream.MoveNext());
        return call.ResponseStream.Current.Handshake;
    }

    private static UserEnvelope Envelope(string recipient, IMessage message) => new()
    {
        Recipient = recipient,
        Type = message.Descriptor.FullName,
        Payload = message.ToByteString(),
    };

    /// <summary>After each abuse the node still takes a well-formed association and delivers.</summary>
    private async Task AssertStillServesAsync(ulong incarnation)
    {
        using var call = await AssociateAsync(new Handshake { From = Peer(incarnation), To = Self });
        var reply = await ReplyAsync(call);
        Assert.True(reply.Accepted, reply.Refusal);
        await call.RequestStream.WriteAsync(new Frame { Messages = { Envelope("/user/target", new StringValue { Value = "still here" }) } });
        _probe.FishForMessage<StringValue>(v => v.Value == "still here"); // fuzzed frames may have delivered mangled strings first
    }

    [Fact]
    public async Task A_first_frame_that_is_not_a_handshake_ends_the_stream_with_InvalidArgument()
    {
        using var call = _channel.DuplexStreaming(RemoteTransport.AssociateMethod);
        await call.RequestStream.WriteAsync(new Frame { Heartbeat = true });
        var error = await Assert.ThrowsAsync<RpcException>(async () => await call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        await AssertStillServesAsync(8);
    }

    [Theory]
    [InlineData("other", 0, 7, "not mesh")]
    [InlineData("mesh", 1, 7, "wrong port")]
    [InlineData("mesh", 0, 0, "no incarnation")]
    public async Task Handshakes_for_another_node_or_without_identity_are_refused(string system, int portOffset, ulong incarnation, string why)
    {
        var to = new NodeId { System = system, Host = "127.0.0.1", Port = _node.Address.Port + portOffset };
        using var call = await AssociateAsync(new Handshake { From = Peer(incarnation), To = to });
        var reply = await ReplyAsync(call);
        Assert.False(reply.Accepted, why);
        Assert.NotEmpty(reply.Refusal);
        await AssertStillServesAsync(9);
    }

    [Fact]
    public async Task Unknown_types_bad_payloads_and_bad_paths_become_dead_letters_and_the_stream_goes_on()
    {
        using var call = await AssociateAsync(new Handshake { From = Peer(), To = Self });
        Assert.True((await ReplyAsync(call)).Accepted);
        var frame = new Frame
        {
            Messages =
            {
                new UserEnvelope { Recipient = "/user/target", Type = "evil.Type", Payload = ByteString.CopyFromUtf8("x") },
                new UserEnvelope { Recipient = "/user/target", Type = StringValue.Descriptor.FullName, Payload = ByteString.CopyFrom(0x0A, 0xFF, 0x01) },
                Envelope("not a path", new StringValue { Value = "lost" }),
                Envelope("/user/" + new string('x', 300), new StringValue { Value = "lost" }),
                Envelope("/user/nobody", new StringValue { Value = "lost" }),
                Envelope("/user/target", new StringValue { Value = "delivered" }),
            },
            System =
            {
                new SystemEnvelope { Kind = SystemEnvelope.Types.Kind.Watch, Watchee = new ActorRefData { Path = "garbage" } },
                new SystemEnvelope { Kind = (SystemEnvelope.Types.Kind)99 },
            },
        };
        await call.RequestStream.WriteAsync(frame);
        Assert.Equal("delivered", _probe.ExpectMsg<StringValue>().Value);
        var reasons = Enumerable.Range(0, 5).Select(_ => _dead.ExpectMsg<DeadLetter>().Reason).ToList();
        Assert.Contains(reasons, r => r.Contains("unknown message type", StringComparison.Ordinal));
        Assert.Contains(reasons, r => r.Contains("malformed", StringComparison.Ordinal));
        await AssertStillServesAsync(10);
    }

    [Fact]
    public async Task Fuzzed_frames_never_take_the_node_down()
    {
        var random = new Random(1234);
        var valid = new Frame
        {
            Messages = { Envelope("/user/target", new StringValue { Value = "v" }) },
            System = { new SystemEnvelope { Kind = SystemEnvelope.Types.Kind.Watch, Watchee = new ActorRefData { Path = "cluster://mesh/user/target" }, Watcher = new ActorRefData { Path = "cluster://mesh@127.0.0.1:1/user/w" } } },
        }.ToByteArray();
        for (var i = 0; i < 60; i++)
        {
            // A raw method lets us put arbitrary bytes where a frame belongs.
            var raw = new Method<RawFrame, Frame>(RemoteTransport.AssociateMethod.ServiceName, RemoteTransport.AssociateMethod.Name, MethodType.DuplexStreaming);
            using var call = _channel.DuplexStreaming(raw, CallOptions.WithTimeout(TimeSpan.FromSeconds(10)));
            var handshake = new Frame { Handshake = new Handshake { From = Peer((ulong)(100 + i)), To = Self } }.ToByteArray();
            await call.RequestStream.WriteAsync(new RawFrame { Bytes = handshake });
            var mutated = (byte[])valid.Clone();
            for (var flips = random.Next(1, 8); flips > 0; flips--)
            {
                mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
            }

            var payload = i % 3 == 0 ? mutated[..random.Next(mutated.Length)] : mutated;
            await call.RequestStream.WriteAsync(new RawFrame { Bytes = payload });
            await call.RequestStream.CompleteAsync();
            try
            {
                while (await call.ResponseStream.MoveNext())
                {
                }
            }
            catch (RpcException)
            {
                // The node may end a stream it cannot parse; what matters is that it keeps serving.
            }
        }

        await AssertStillServesAsync(1);
    }

    /// <summary>A request message that puts exactly its bytes on the wire, valid protobuf or not.</summary>
    private sealed class RawFrame : IMessage<RawFrame>, IBufferMessage
    {
        public byte[] Bytes { get; init; } = [];

        public Google.Protobuf.Reflection.MessageDescriptor Descriptor => Empty.Descriptor;

        public int CalculateSize() => Bytes.Length;

        public void WriteTo(CodedOutputStream output)
        {
            foreach (var b in Bytes)
            {
                output.WriteRawTag(b);
            }
        }

        public void InternalWriteTo(ref WriteContext output)
        {
            foreach (var b in Bytes)
            {
                output.WriteRawTag(b);
            }
        }

        public void MergeFrom(CodedInputStream input) => throw new NotSupportedException();

        public void InternalMergeFrom(ref ParseContext input) => throw new NotSupportedException();

        public void MergeFrom(RawFrame message) => throw new NotSupportedException();

        public RawFrame Clone() => new() { Bytes = Bytes };

        public bool Equals(RawFrame? other) => other is not null && Bytes.AsSpan().SequenceEqual(other.Bytes);

        public override bool Equals(object? obj) => Equals(obj as RawFrame);

        public override int GetHashCode() => Bytes.Length;
    }

    private sealed class Forwarder(ActorRef to) : Actor
    {
        protected override void Receive(object message) => to.Tell(message, Sender);
    }
}
