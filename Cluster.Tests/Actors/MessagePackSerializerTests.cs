using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;
using Cluster.Actors;
using Cluster.Actors.Serialization;
using Cluster.Testing.Sharded;
using MessagePack;

namespace Cluster.Tests.Actors;

/// <summary>
/// The serializer for messages between nodes, through Akka's serialization as remoting uses it:
/// round trips, and every way a peer's bytes can be wrong fails with a clear error, not a crash
/// or a half-read message.
/// </summary>
public sealed class MessagePackSerializerTests : IDisposable
{
    private readonly ActorSystem _system = ActorNode.CreateSystem(new ActorNodeOptions { Messages = EchoMessages.Registry, ExtraConfig = "akka.actor.provider = local" });

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    private Serialization Serialization => _system.Serialization;

    private MessagePackActorSerializer Serializer => Assert.IsType<MessagePackActorSerializer>(Serialization.FindSerializerFor(new Echo("a", "b", 1)));

    [Fact]
    public void Registered_messages_round_trip_through_akka_s_serialization()
    {
        var echo = new Echo("node-1", "proxy/web-sidecar", 42);
        var bytes = Serializer.ToBinary(echo);
        Assert.Equal(MessagePackActorSerializer.FormatVersion, bytes[0]);
        Assert.Equal(echo, Serialization.Deserialize(bytes, MessagePackActorSerializer.Id, "t.echo"));

        var reply = new EchoReply("x", "akka.tcp://mesh@127.0.0.1:1", 7, 3);
        Assert.Equal(reply, Serializer.FromBinary(Serializer.ToBinary(reply), Serializer.Manifest(reply)));
    }

    [Fact]
    public void An_unregistered_type_is_refused_at_the_sender_instead_of_going_out_as_json()
    {
        var refusing = Serialization.FindSerializerFor(new Unregistered("x"));
        Assert.IsType<RefusingSerializer>(refusing);
        var e = Assert.Throws<SerializationException>(() => refusing.ToBinary(new Unregistered("x")));
        Assert.Contains(nameof(Unregistered), e.Message, StringComparison.Ordinal);

        // Implements the marker but is not listed in the registry: also refused.
        var listed = Assert.Throws<SerializationException>(() => Serializer.ToBinary(new NotListed(1)));
        Assert.Contains("not in the message registry", listed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bytes_from_a_peer_that_are_wrong_fail_with_what_was_wrong()
    {
        var good = Serializer.ToBinary(new Echo("a", "b", 1));
        Assert.Contains("unknown message manifest 'nope'", Assert.Throws<SerializationException>(() => Serializer.FromBinary(good, "nope")).Message, StringComparison.Ordinal);
        Assert.Contains("empty payload", Assert.Throws<SerializationException>(() => Serializer.FromBinary([], "t.echo")).Message, StringComparison.Ordinal);

        var future = (byte[])good.Clone();
        future[0] = 2;
        Assert.Contains("format version 2", Assert.Throws<SerializationException>(() => Serializer.FromBinary(future, "t.echo")).Message, StringComparison.Ordinal);

        Assert.Contains("malformed 't.echo'", Assert.Throws<SerializationException>(() => Serializer.FromBinary(good[..^1], "t.echo")).Message, StringComparison.Ordinal);

        // A field of the wrong MessagePack type (the sequence number as a string).
        var wrongType = Serializer.ToBinary(new EchoReply("a", "b", 1, 2));
        wrongType[^2] = 0xa1; // fixstr of length 1 in place of the positive fixint 1
        Assert.Contains("malformed 't.echo-reply'", Assert.Throws<SerializationException>(() => Serializer.FromBinary(wrongType, "t.echo-reply")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_deeper_than_the_untrusted_data_limit_is_refused()
    {
        // 600 nested arrays: far below what a stack overflow needs, above MessagePack's untrusted-data depth limit.
        var bytes = new List<byte> { MessagePackActorSerializer.FormatVersion, 0x93 };
        for (var i = 0; i < 600; i++)
        {
            bytes.Add(0x91);
        }

        bytes.Add(0xc0);
        Assert.Throws<SerializationException>(() => Serializer.FromBinary([.. bytes], "t.echo"));
    }

    [Fact]
    public void Seeded_random_and_mutated_payloads_never_escape_as_anything_but_a_serialization_error()
    {
        var random = new Random(20261203);
        var good = Serializer.ToBinary(new EchoReply("entity", "node", 1, 2));
        for (var i = 0; i < 5_000; i++)
        {
            byte[] bytes;
            if (i % 2 == 0)
            {
                bytes = new byte[random.Next(0, 64)];
                random.NextBytes(bytes);
                if (bytes.Length > 0)
                {
                    bytes[0] = MessagePackActorSerializer.FormatVersion;
                }
            }
            else
            {
                bytes = (byte[])good.Clone();
                for (var flips = random.Next(1, 4); flips > 0; flips--)
                {
                    bytes[random.Next(1, bytes.Length)] = (byte)random.Next(256);
                }
            }

            try
            {
                var message = Serializer.FromBinary(bytes, "t.echo-reply");
                Assert.IsType<EchoReply>(message); // a mutation that still parses is a valid reply
            }
            catch (SerializationException)
            {
            }
        }
    }

    [Fact]
    public void A_registry_refuses_duplicates_and_types_without_the_marker()
    {
        Assert.Throws<ArgumentException>(() => new MessageRegistry([new("a", typeof(Echo)), new("a", typeof(EchoReply))]));
        Assert.Throws<ArgumentException>(() => new MessageRegistry([new("a", typeof(Echo)), new("b", typeof(Echo))]));
        Assert.Throws<ArgumentException>(() => new MessageRegistry([new("a", typeof(string))]));
        Assert.Throws<ArgumentException>(() => new MessageRegistry([new("", typeof(Echo))]));
    }

    public sealed record Unregistered(string Value);

    [MessagePackObject]
    public sealed record NotListed([property: Key(0)] int Value) : IWireMessage;
}
