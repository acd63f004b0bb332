using Cluster.Gossip.Security;
using Cluster.Gossip.Wire;

namespace Cluster.Tests.Gossip;

/// <summary>Encryption on the gossip wire: sealing, key rotation, and hostile bytes that must be dropped, never thrown.</summary>
public sealed class PacketCodecTests
{
    private static readonly byte[] KeyA = Keyring.ParseKey(Keyring.GenerateKey());
    private static readonly byte[] KeyB = Keyring.ParseKey(Keyring.GenerateKey());

    private static Packet Ping() => new() { From = "a", FromAddress = "10.0.0.1:8301", Ping = new Ping { Seq = 7, Target = "b" } };

    [Fact]
    public void A_sealed_packet_opens_with_the_same_key_and_label_only()
    {
        var sender = new PacketCodec(new Keyring([KeyA]), "lan:dc1");
        var bytes = sender.Encode(Ping());
        Assert.Equal(Ping(), new PacketCodec(new Keyring([KeyA]), "lan:dc1").DecodePacket(bytes));

        var reasons = new List<DropReason>();
        Assert.Null(new PacketCodec(new Keyring([KeyB]), "lan:dc1") { OnDrop = reasons.Add }.DecodePacket(bytes)); // wrong key
        Assert.Null(new PacketCodec(new Keyring([KeyA]), "wan") { OnDrop = reasons.Add }.DecodePacket(bytes)); // another pool
        Assert.Null(new PacketCodec(null, "lan:dc1") { OnDrop = reasons.Add }.DecodePacket(bytes)); // we have no keys
        Assert.Null(new PacketCodec(new Keyring([KeyA]), "lan:dc1") { OnDrop = reasons.Add }.DecodePacket(new PacketCodec(null, "lan:dc1").Encode(Ping()))); // plaintext refused
        Assert.Equal([DropReason.WrongKeyOrDamaged, DropReason.WrongKeyOrDamaged, DropReason.WrongKeyOrDamaged, DropReason.NotEncrypted], reasons);
        Assert.NotEqual(sender.Encode(Ping()), sender.Encode(Ping())); // a fresh nonce every time
    }

    [Fact]
    public void Keys_rotate_across_a_pool_without_a_restart()
    {
        var alice = new Keyring([KeyA]);
        var bob = new Keyring([KeyA]);
        var aliceCodec = new PacketCodec(alice, "lan");
        var bobCodec = new PacketCodec(bob, "lan");

        alice.Install(KeyB);
        bob.Install(KeyB);
        Assert.NotNull(bobCodec.DecodePacket(aliceCodec.Encode(Ping())));
        alice.Use(KeyB); // Bob still opens it: B is installed there
        Assert.NotNull(bobCodec.DecodePacket(aliceCodec.Encode(Ping())));
        bob.Use(KeyB);
        alice.Remove(KeyA);
        bob.Remove(KeyA);
        Assert.NotNull(aliceCodec.DecodePacket(bobCodec.Encode(Ping())));
        Assert.Equal([Convert.ToBase64String(KeyB)], alice.List());

        Assert.Throws<ArgumentException>(() => bob.Remove(KeyB)); // the primary stays
        Assert.Throws<ArgumentException>(() => bob.Use(KeyA)); // not installed any more
        Assert.Throws<ArgumentException>(() => Keyring.ParseKey("not base64!"));
        Assert.Throws<ArgumentException>(() => Keyring.ParseKey(Convert.ToBase64String(new byte[7])));
    }

    [Fact]
    public void Garbage_truncated_and_mutated_bytes_are_dropped_and_counted_never_thrown()
    {
        var codec = new PacketCodec(new Keyring([KeyA]), "lan");
        var good = codec.Encode(Ping());
        var random = new Random(11);
        List<byte[]> inputs = [[], [1], [9, 9, 9], new byte[100_000], good[..20], good[..^1]];
        for (var i = 0; i < 2000; i++)
        {
            var mutated = (byte[])good.Clone();
            mutated[random.Next(mutated.Length)] ^= (byte)(1 + random.Next(255));
            inputs.Add(mutated);
            var garbage = new byte[random.Next(0, 300)];
            random.NextBytes(garbage);
            inputs.Add(garbage);
        }

        foreach (var input in inputs)
        {
            Assert.Null(codec.DecodePacket(input));
        }

        Assert.Equal(inputs.Count, codec.Dropped);

        // Plain mode: garbage after the version byte must not parse into anything either, or parse harmlessly.
        var plain = new PacketCodec(null, "lan");
        for (var i = 0; i < 2000; i++)
        {
            var garbage = new byte[random.Next(1, 300)];
            random.NextBytes(garbage);
            garbage[0] = 0;
            _ = plain.DecodePacket(garbage); // parses or drops; never throws
        }
    }
}
