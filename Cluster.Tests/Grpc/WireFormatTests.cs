using System.Buffers;
using Cluster.Grpc;
using Cluster.Grpc.Wire;
using Cluster.Testing.Echo;
using Google.Protobuf;

namespace Cluster.Tests.Grpc;

/// <summary>The small parsers and encoders under the transport.</summary>
public sealed class WireFormatTests
{
    [Theory]
    [InlineData(1, "1000000n")]
    [InlineData(250, "250000u")]
    [InlineData(100_000, "100000m")]
    [InlineData(100_000_000, "100000S")]
    public void Timeouts_are_formatted_in_the_most_precise_unit_that_fits(long milliseconds, string expected) =>
        Assert.Equal(expected, GrpcTimeout.Format(TimeSpan.FromMilliseconds(milliseconds)));

    [Fact]
    public void Timeouts_never_shrink_in_formatting_and_parse_back()
    {
        var random = new Random(1234);
        for (var i = 0; i < 2000; i++)
        {
            var timeout = TimeSpan.FromTicks((long)(random.NextDouble() * TimeSpan.FromDays(3000).Ticks) + 1);
            var text = GrpcTimeout.Format(timeout);
            Assert.InRange(text.Length, 2, 9);
            Assert.True(GrpcTimeout.TryParse(text, out var parsed), text);
            Assert.True(parsed >= timeout, $"{timeout} -> {text} -> {parsed}");
        }
    }

    [Theory]
    [InlineData("5S", 5_000)]
    [InlineData("2M", 120_000)]
    [InlineData("1H", 3_600_000)]
    [InlineData("99999999m", 99_999_999)]
    [InlineData("1500000n", 2)]
    public void Timeouts_parse(string text, long expectedMilliseconds)
    {
        Assert.True(GrpcTimeout.TryParse(text, out var timeout));
        Assert.Equal(expectedMilliseconds, (long)Math.Ceiling(timeout.TotalMilliseconds));
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("S")]
    [InlineData("5s")]
    [InlineData("123456789S")]
    [InlineData(" 5S")]
    [InlineData("5.0S")]
    [InlineData("+5S")]
    public void Bad_timeouts_are_rejected(string text) => Assert.False(GrpcTimeout.TryParse(text, out _));

    [Theory]
    [InlineData("plain ascii", "plain ascii")]
    [InlineData("100%", "100%25")]
    [InlineData("line\nbreak", "line%0Abreak")]
    [InlineData("caf\u00e9", "caf%C3%A9")]
    [InlineData("\U0001F600", "%F0%9F%98%80")]
    public void Status_messages_are_percent_encoded(string detail, string wire)
    {
        Assert.Equal(wire, PercentEncoding.Encode(detail));
        Assert.Equal(detail, PercentEncoding.Decode(wire));
    }

    [Theory]
    [InlineData("%", "%")]
    [InlineData("%4", "%4")]
    [InlineData("%zz ok", "%zz ok")]
    [InlineData("50%%", "50%%")]
    public void Malformed_percent_escapes_are_kept_as_they_are(string wire, string expected) =>
        Assert.Equal(expected, PercentEncoding.Decode(wire));

    [Fact]
    public void Frames_split_across_segments_are_reassembled()
    {
        var message = new EchoRequest { Message = new string('x', 300) }.ToByteArray();
        var framed = new byte[5 + message.Length];
        MessageFraming.WriteHeader(framed, compressed: false, message.Length);
        message.CopyTo(framed, 5);

        for (var split = 1; split < framed.Length; split += 37)
        {
            var sequence = Segments(framed[..split], framed[split..]);
            Assert.True(MessageFraming.TryReadFrame(ref sequence, 1024, out var compressed, out var payload));
            Assert.False(compressed);
            Assert.Equal(message, payload.ToArray());
            Assert.Equal(0, sequence.Length);

            var partial = Segments(framed[..split]);
            Assert.False(MessageFraming.TryReadFrame(ref partial, 1024, out _, out _));
        }
    }

    [Fact]
    public void Metadata_keys_are_checked()
    {
        var metadata = new Metadata().Add("X-Upper", "v");
        Assert.Equal("x-upper", metadata[0].Key);
        Assert.Throws<ArgumentException>(() => metadata.Add("bad key", "v"));
        Assert.Throws<ArgumentException>(() => metadata.Add("grpc-status", "0"));
        Assert.Throws<ArgumentException>(() => metadata.Add("x-bin", "text"));
        Assert.Throws<ArgumentException>(() => metadata.Add("x-text", [1, 2]));
        Assert.Throws<ArgumentException>(() => metadata.Add("x-text", "caf\u00e9"));
    }

    [Fact]
    public void Methods_declared_from_descriptors_follow_the_proto()
    {
        Assert.Equal(MethodType.DuplexStreaming, EchoMethods.Bidi.Type);
        Assert.Equal(MethodType.ServerStreaming, EchoMethods.ServerStream.Type);
        Assert.Equal("/cluster.testing.Echo/ClientStream", EchoMethods.ClientStream.Path);
        Assert.Throws<ArgumentException>(() => Method.FromDescriptor<StatsRequest, EchoReply>(EchoReflection.Descriptor, EchoMethods.ServiceName, "Unary"));
        Assert.Throws<ArgumentException>(() => Method.FromDescriptor<EchoRequest, EchoReply>(EchoReflection.Descriptor, EchoMethods.ServiceName, "Nope"));
        Assert.Throws<ArgumentException>(() => Method.FromDescriptor<EchoRequest, EchoReply>(EchoReflection.Descriptor, "cluster.testing.Nope", "Unary"));
    }

    private static ReadOnlySequence<byte> Segments(params byte[][] parts)
    {
        Segment? first = null, last = null;
        foreach (var part in parts)
        {
            var segment = new Segment(part, last?.RunningIndex + last?.Memory.Length ?? 0);
            last?.SetNext(segment);
            first ??= segment;
            last = segment;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data, long runningIndex)
        {
            Memory = data;
            RunningIndex = runningIndex;
        }

        public void SetNext(Segment next) => Next = next;
    }
}
