using System.Buffers.Binary;
using Cluster.Agent.Dns;

namespace Cluster.Tests.Dns;

/// <summary>The wire format: malformed queries, EDNS0, truncation and name compression.</summary>
public sealed class DnsCodecTests
{
    private static InMemoryDnsCatalog Many(int count)
    {
        var catalog = new InMemoryDnsCatalog();
        for (var i = 0; i < count; i++)
        {
            catalog.Service("big", new($"node-{i}", $"10.1.{i / 250}.{(i % 250) + 1}", "", 1000 + i, [], DnsHealth.Passing));
        }

        return catalog;
    }

    private static Task<TestResponse?> AskAsync(byte[] query, bool tcp = false, IDnsCatalog? catalog = null) =>
        DnsResolverTests.AskAsync(catalog ?? Many(3), query, tcp);

    private static byte[] Header(ushort id, ushort flags, ushort qd, ushort an = 0, ushort ns = 0, ushort ar = 0)
    {
        var header = new byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(header, id);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), flags);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(4), qd);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(6), an);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(8), ns);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(10), ar);
        return header;
    }

    public static TheoryData<string, byte[]> Malformed => new()
    {
        { "header cut short", [0xAB, 0xCD, 0x01, 0x00, 0x00] },
        { "two questions", [.. Header(0xABCD, 0x0100, 2), .. DnsTestWire.Query("web.service.consul", DnsType.A)[12..], .. DnsTestWire.Query("web.service.consul", DnsType.A)[12..]] },
        { "no question", Header(0xABCD, 0x0100, 0) },
        { "label longer than the packet", [.. Header(0xABCD, 0x0100, 1), 10, (byte)'w', (byte)'e', 0, 0, 1, 0, 1] },
        { "extended label type", [.. Header(0xABCD, 0x0100, 1), 0x41, (byte)'w', 0, 0, 1, 0, 1] },
        { "pointer to itself", [.. Header(0xABCD, 0x0100, 1), 0xC0, 12, 0, 1, 0, 1] },
        { "pointer forwards", [.. Header(0xABCD, 0x0100, 1), 0xC0, 14, 0, 1, 0, 1, 0] },
        { "pointer loop through the header", [.. Header(0xABCD, 0x0100, 1, ar: 1), 1, (byte)'a', 0, 0, 1, 0, 1, 1, (byte)'b', 0xC0, 23, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0] },
        { "question cut short", [.. Header(0xABCD, 0x0100, 1), 3, (byte)'w', (byte)'e', (byte)'b', 0, 0, 1] },
        { "trailing garbage", [.. DnsTestWire.Query("web.service.consul", DnsType.A, id: 0xABCD), 0xFF] },
        { "name over 255 bytes", [.. Header(0xABCD, 0x0100, 1), .. Enumerable.Range(0, 5).SelectMany(_ => (byte[])[63, .. Enumerable.Repeat((byte)'a', 63)]), 0, 0, 1, 0, 1] },
        { "two OPT records", [.. DnsTestWire.Query("web.service.consul", DnsType.A, id: 0xABCD, udpPayload: 1232)[..^11].Select((b, i) => i == 11 ? (byte)2 : b), .. Opt(1232), .. Opt(1232)] },
        { "additional record cut short", [.. DnsTestWire.Query("web.service.consul", DnsType.A, id: 0xABCD, udpPayload: 1232)[..^3]] },
    };

    private static byte[] Opt(ushort payload) => [0, 0, 41, (byte)(payload >> 8), (byte)payload, 0, 0, 0, 0, 0, 0];

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task Malformed_queries_are_formerr_echoing_the_id(string why, byte[] packet)
    {
        var response = await AskAsync(packet);
        Assert.True(response is not null, why);
        Assert.Equal((0xABCD, DnsResponseCode.FormatError), (response.Id, response.Code));
        Assert.True(response.RecursionDesired, why);
        Assert.True((response.Flags & 0x8000) != 0, why);
    }

    [Fact]
    public async Task Opcodes_other_than_query_are_notimp()
    {
        var packet = DnsTestWire.Query("web.service.consul", DnsType.A, id: 7);
        packet[2] |= 2 << 3; // STATUS
        var response = await AskAsync(packet);
        Assert.Equal((7, DnsResponseCode.NotImplemented), (response!.Id, response.Code));
        Assert.Equal(2, (response.Flags >> 11) & 0xF);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0x12 })]
    public async Task Packets_without_an_id_get_no_answer(byte[] packet) => Assert.Null(await AskAsync(packet));

    [Fact]
    public async Task Responses_are_not_answered()
    {
        var packet = DnsTestWire.Query("web.service.consul", DnsType.A);
        packet[2] |= 0x80;
        Assert.Null(await AskAsync(packet));
    }

    [Fact]
    public async Task A_question_with_a_backward_pointer_is_read()
    {
        // A pointer backwards is legal even into the header: with ID 0 its first byte is the root.
        var packet = (byte[])[.. Header(0, 0x0100, 1), 0xC0, 0, 0, 1, 0, 1];
        var response = await AskAsync(packet);
        Assert.Equal(DnsResponseCode.Refused, response!.Code);
    }

    [Fact]
    public async Task The_answer_echoes_id_rd_and_the_question()
    {
        var response = await AskAsync(DnsTestWire.Query("big.service.consul", DnsType.A, id: 0xBEEF, recursionDesired: false));
        Assert.Equal(0xBEEF, response!.Id);
        Assert.False(response.RecursionDesired);
        Assert.Equal(("big.service.consul", DnsType.A), Assert.Single(response.Questions));
    }

    [Fact]
    public async Task Edns0_is_answered_with_our_payload_size_and_unknown_versions_with_badvers()
    {
        var response = await AskAsync(DnsTestWire.Query("big.service.consul", DnsType.A, udpPayload: 1232));
        Assert.Equal("payload 4096", response!.Opt!.Data);
        Assert.Null((await AskAsync(DnsTestWire.Query("big.service.consul", DnsType.A)))!.Opt);

        var badVersion = await AskAsync(DnsTestWire.Query("big.service.consul", DnsType.A, udpPayload: 1232, ednsVersion: 1));
        Assert.Equal(DnsResponseCode.BadVersion, badVersion!.Code);
        Assert.Empty(badVersion.Answers);
    }

    [Theory]
    [InlineData(null, 512)]
    [InlineData((ushort)100, 512)]
    [InlineData((ushort)1232, 1232)]
    [InlineData((ushort)4096, 4096)]
    [InlineData((ushort)65000, 4096)]
    public async Task Udp_answers_too_large_are_cut_to_the_payload_size_with_tc(ushort? payload, int limit)
    {
        var response = (await AskAsync(DnsTestWire.Query("big.service.consul", DnsType.Srv, udpPayload: payload), catalog: Many(400)))!;
        Assert.True(response.Truncated);
        Assert.InRange(response.Length, limit - 100, limit);
        Assert.InRange(response.Answers.Count, 1, 399);
        Assert.Empty(response.Authority);
        Assert.Equal(payload is not null, response.Opt is not null);
    }

    [Fact]
    public async Task Tcp_answers_carry_every_record()
    {
        var response = (await AskAsync(DnsTestWire.Query("big.service.consul", DnsType.Srv), tcp: true, catalog: Many(400)))!;
        Assert.False(response.Truncated);
        Assert.Equal(400, response.Answers.Count);
        Assert.Equal(400, response.Additional.Count);
    }

    [Fact]
    public async Task Glue_that_does_not_fit_is_left_out_without_tc()
    {
        // Ten SRV answers (42 bytes each) fit in 512 bytes, but not with all ten A records of glue.
        var response = (await AskAsync(DnsTestWire.Query("big.service.consul", DnsType.Srv), catalog: Many(10)))!;
        Assert.False(response.Truncated);
        Assert.Equal(10, response.Answers.Count);
        Assert.InRange(response.Additional.Count, 1, 9);
        Assert.True(response.Length <= 512);
    }

    [Fact]
    public async Task Names_are_compressed()
    {
        var response = (await AskAsync(DnsTestWire.Query("big.service.consul", DnsType.A), catalog: Many(3)))!;
        // Header 12, question 20 + 4, each A record a 2-byte pointer + 10 + 4.
        Assert.Equal(12 + 24 + (3 * 16), response.Length);
    }
}
