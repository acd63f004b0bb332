using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;

namespace Cluster.Grpc.Wire;

/// <summary>
/// The message encodings we speak (grpc-encoding): identity, gzip and deflate (zlib). Decoding
/// is bounded by the receive limit, so a small compressed message cannot expand without limit.
/// </summary>
internal static class MessageCompression
{
    public const string Identity = "identity";
    public const string Gzip = "gzip";
    public const string Deflate = "deflate";

    /// <summary>The value we send in grpc-accept-encoding.</summary>
    public const string AcceptEncoding = "identity,gzip,deflate";

    public static bool IsSupported(string encoding) => encoding is Identity or Gzip or Deflate;

    /// <summary>Checks a configured encoding name; null and "identity" mean no compression.</summary>
    public static string? Validate(string? encoding, string paramName)
    {
        if (encoding is null or Identity)
        {
            return null;
        }

        return IsSupported(encoding)
            ? encoding
            : throw new ArgumentException($"Unsupported compression '{encoding}'; supported: {AcceptEncoding}.", paramName);
    }

    public static byte[] Compress(string encoding, ReadOnlySpan<byte> input, CompressionLevel level)
    {
        using var output = new MemoryStream();
        using (var stream = CreateCompressor(encoding, output, level))
        {
            stream.Write(input);
        }

        return output.ToArray();
    }

    /// <summary>
    /// Decompresses into a pooled buffer (the caller returns it to <see cref="ArrayPool{T}.Shared"/>).
    /// Throws RESOURCE_EXHAUSTED past <paramref name="maxSize"/> and INTERNAL on corrupt input.
    /// </summary>
    public static byte[] Decompress(string encoding, ReadOnlySequence<byte> input, int maxSize, out int length)
    {
        byte[]? copy = null;
        ReadOnlyMemory<byte> memory;
        if (input.IsSingleSegment)
        {
            memory = input.First;
        }
        else
        {
            copy = ArrayPool<byte>.Shared.Rent((int)input.Length);
            input.CopyTo(copy);
            memory = copy.AsMemory(0, (int)input.Length);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(256, (int)Math.Min(maxSize + 1L, input.Length * 4)));
        try
        {
            using var source = AsStream(memory);
            using var stream = CreateDecompressor(encoding, source);
            length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > maxSize)
                    {
                        break;
                    }

                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(buffer.Length * 2L, maxSize + 1L));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                var read = stream.Read(buffer, length, Math.Min(buffer.Length, maxSize + 1) - length);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > maxSize)
                {
                    break;
                }
            }

            if (length > maxSize)
            {
                throw new RpcException(StatusCode.ResourceExhausted, $"Received message larger than max ({maxSize} bytes) after decompression.");
            }

            // The decoders stop quietly at a truncated end; the trailers tell.
            if (!TrailerMatches(encoding, memory.Span, buffer.AsSpan(0, length)))
            {
                throw new InvalidDataException("The compressed data is truncated or its checksum does not match.");
            }

            return buffer;
        }
        catch (InvalidDataException ex)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw new RpcException(new Status(StatusCode.Internal, $"Failed to decompress message with '{encoding}'."), null, ex);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
        finally
        {
            if (copy is not null)
            {
                ArrayPool<byte>.Shared.Return(copy);
            }
        }
    }

    /// <summary>gzip ends with the input size mod 2^32 (RFC 1952); zlib with the Adler-32 of the data (RFC 1950).</summary>
    private static bool TrailerMatches(string encoding, ReadOnlySpan<byte> compressed, ReadOnlySpan<byte> data)
    {
        if (compressed.Length < 4)
        {
            return false;
        }

        var trailer = compressed[^4..];
        return encoding switch
        {
            Gzip => compressed.Length >= 18 && BinaryPrimitives.ReadUInt32LittleEndian(trailer) == (uint)data.Length,
            Deflate => BinaryPrimitives.ReadUInt32BigEndian(trailer) == Adler32(data),
            _ => true,
        };
    }

    private static uint Adler32(ReadOnlySpan<byte> data)
    {
        const uint Mod = 65521;
        uint a = 1, b = 0;
        while (data.Length > 0)
        {
            // 5552 bytes is the most that can be summed before the 32-bit sums may overflow.
            var chunk = data[..Math.Min(5552, data.Length)];
            foreach (var x in chunk)
            {
                a += x;
                b += a;
            }

            a %= Mod;
            b %= Mod;
            data = data[chunk.Length..];
        }

        return (b << 16) | a;
    }

    private static MemoryStream AsStream(ReadOnlyMemory<byte> memory) =>
        MemoryMarshal.TryGetArray(memory, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(memory.ToArray(), writable: false);

    private static Stream CreateCompressor(string encoding, Stream output, CompressionLevel level) => encoding switch
    {
        Gzip => new GZipStream(output, level, leaveOpen: true),
        Deflate => new ZLibStream(output, level, leaveOpen: true),
        _ => throw new InvalidOperationException($"No compressor for '{encoding}'."),
    };

    private static Stream CreateDecompressor(string encoding, Stream input) => encoding switch
    {
        Gzip => new GZipStream(input, CompressionMode.Decompress),
        Deflate => new ZLibStream(input, CompressionMode.Decompress),
        _ => throw new InvalidOperationException($"No decompressor for '{encoding}'."),
    };
}
