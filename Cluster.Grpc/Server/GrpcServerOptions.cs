using System.IO.Compression;
using Cluster.Grpc.Wire;

namespace Cluster.Grpc.Server;

/// <summary>How the server treats calls. Immutable; shared by every call.</summary>
public sealed record GrpcServerOptions
{
    /// <summary>Largest request message accepted, after decompression (default 4 MiB, as in gRPC).</summary>
    public int MaxReceiveMessageSize { get; init; } = GrpcProtocol.DefaultMaxReceiveMessageSize;

    /// <summary>Largest response message sent, after compression (default unlimited).</summary>
    public int MaxSendMessageSize { get; init; } = int.MaxValue;

    /// <summary>"gzip" or "deflate" to compress responses to clients that accept it; null for none.</summary>
    public string? ResponseCompression { get; init; }

    public CompressionLevel CompressionLevel { get; init; } = CompressionLevel.Fastest;

    /// <summary>Put a handler exception's message in grpc-message (off: it may leak internals).</summary>
    public bool EnableDetailedErrors { get; init; }

    /// <summary>The clock behind deadlines; tests inject a manual one.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
