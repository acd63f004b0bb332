using System.IO.Compression;
using System.Net.Security;
using Cluster.Grpc.Wire;

namespace Cluster.Grpc.Client;

/// <summary>How a channel connects and treats calls. Immutable.</summary>
public sealed record GrpcChannelOptions
{
    /// <summary>Largest response message accepted, after decompression (default 4 MiB).</summary>
    public int MaxReceiveMessageSize { get; init; } = GrpcProtocol.DefaultMaxReceiveMessageSize;

    /// <summary>Largest request message sent, after compression (default unlimited).</summary>
    public int MaxSendMessageSize { get; init; } = int.MaxValue;

    /// <summary>"gzip" or "deflate" to compress request messages; null for none.</summary>
    public string? RequestCompression { get; init; }

    public CompressionLevel CompressionLevel { get; init; } = CompressionLevel.Fastest;

    /// <summary>TLS settings for https:// addresses (server validation, client certificate for mTLS).</summary>
    public SslClientAuthenticationOptions? Tls { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Ping idle connections this often to find dead servers; null leaves it off.</summary>
    public TimeSpan? KeepAlivePingDelay { get; init; }

    public TimeSpan KeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>The clock behind deadlines; tests inject a manual one.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Use this handler instead of the channel's own SocketsHttpHandler (the channel does not dispose it).</summary>
    public HttpMessageHandler? HttpHandler { get; init; }
}
