using System.Buffers.Binary;
using Cluster.Agent.Dns;

namespace Cluster.Tests.Dns;

/// <summary>Seeded fuzzing of the whole responder: random bytes and mutated valid queries never throw and always get a well-formed answer (or none, for packets without an ID and for responses).</summary>
public sealed class DnsFuzzTests
{
    private static readonly byte[][] Valid =
    [
        DnsTestWire.Query("web.service.consul", DnsType.A),
        DnsTestWire.Query("_web._tcp.service.dc1.consul", DnsType.Srv, udpPayload: 1232),
        DnsTestWire.Query("n1.node.consul", DnsType.Aaaa),
        DnsTestWire.Query("consul", DnsType.Any, udpPayload: 4096),
        DnsTestWire.Query("example.com", DnsType.A),
        DnsTestWire.Query("0a000001.addr.dc1.consul", DnsType.A),
    ];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Random_and_mutated_packets_never_break_the_responder(int seed)
    {
        var random = new Random(seed);
        var catalog = new InMemoryDnsCatalog()
            .Service("web", new("n1", "10.0.0.1", "", 80, ["v1"], DnsHealth.Passing))
            .Service("web", new("n2", "10.0.0.2", "10.9.9.9", 81, [], DnsHealth.Passing));
        for (var i = 0; i < 5000; i++)
        {
            var packet = i % 4 == 0 ? RandomBytes(random) : Mutate(random, Valid[random.Next(Valid.Length)]);
            TestResponse? response;
            try
            {
                response = await DnsResolverTests.AskAsync(catalog, packet, tcp: random.Next(2) == 0, seed: i);
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"seed {seed}, packet {i}: {Convert.ToHexString(packet)}", e);
            }

            var silent = packet.Length < 2 || (packet.Length >= 3 && (packet[2] & 0x80) != 0);
            Assert.True(silent == response is null, $"seed {seed}, packet {i}: {Convert.ToHexString(packet)}");
            if (response is not null)
            {
                Assert.Equal(BinaryPrimitives.ReadUInt16BigEndian(packet), response.Id);
                Assert.True((response.Flags & 0x8000) != 0);
                Assert.InRange(response.Questions.Count, 0, 1);
            }
        }
    }

    private static byte[] RandomBytes(Random random)
    {
        var packet = new byte[random.Next(0, 64)];
        random.NextBytes(packet);
        if (packet.Length > 2 && random.Next(2) == 0)
        {
            packet[2] &= 0x7F; // more of them reach the question
        }

        return packet;
    }

    private static byte[] Mutate(Random random, byte[] valid)
    {
        var packet = new List<byte>(valid);
        var edits = random.Next(1, 4);
        for (var e = 0; e < edits; e++)
        {
            switch (random.Next(5))
            {
                case 0 when packet.Count > 0:
                    packet[random.Next(packet.Count)] = (byte)random.Next(256);
                    break;
                case 1 when packet.Count > 0:
                    packet.RemoveRange(random.Next(packet.Count), 1);
                    break;
                case 2:
                    packet.Insert(random.Next(packet.Count + 1), (byte)random.Next(256));
                    break;
                case 3 when packet.Count > 0:
                    var cut = random.Next(packet.Count);
                    packet.RemoveRange(cut, packet.Count - cut);
                    break;
                case 4 when packet.Count > 13:
                    // A compression pointer anywhere in the name or after it.
                    var at = random.Next(12, packet.Count - 1);
                    packet[at] = (byte)(0xC0 | random.Next(2));
                    packet[at + 1] = (byte)random.Next(packet.Count + 8);
                    break;
            }
        }

        if (packet.Count > 2 && random.Next(4) != 0)
        {
            packet[2] &= 0x7F;
        }

        return [.. packet];
    }
}
