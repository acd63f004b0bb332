using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Cluster.Server.Rpc;

/// <summary>
/// Where and how a gRPC listener of ours runs on Kestrel. The defaults are chosen for a control
/// plane: many long-lived streams (xDS, watches, Raft) and connections that may die silently.
/// </summary>
public sealed record GrpcHostOptions
{
    public required IReadOnlyList<IPEndPoint> Endpoints { get; init; }

    /// <summary>Serve TLS (ALPN h2) with this certificate; null serves h2c (prior knowledge).</summary>
    public X509Certificate2? Certificate { get; init; }

    /// <summary>
    /// Streams one HTTP/2 connection may hold open (Kestrel's default is 100). A client agent
    /// multiplexes every blocking query and watch it holds for its node onto one connection to
    /// its server, and each of those is a stream that stays open for minutes.
    /// </summary>
    public int MaxStreamsPerConnection { get; init; } = 1000;

    /// <summary>
    /// How long a connection may be silent before the server pings it (Kestrel's default: never).
    /// Without pings a peer that vanished without a FIN (a killed VM, a dropped NAT entry) holds
    /// its streams, and the watches behind them, until TCP gives up after minutes to hours.
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A ping unanswered this long closes the connection.</summary>
    public TimeSpan KeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Flow-control windows. One xDS push can be megabytes (every cluster and endpoint of a large
    /// mesh); a 1 MiB stream window lets it flow without waiting a round trip per 768 KiB (Kestrel's
    /// default), and the connection window (4 MiB, default 1 MiB) lets several such streams move at once.
    /// </summary>
    public int InitialStreamWindowSize { get; init; } = 1 << 20;

    public int InitialConnectionWindowSize { get; init; } = 4 << 20;

    /// <summary>Largest request message accepted (gRPC's default, 4 MiB; a server's RPC port takes larger commands).</summary>
    public int MaxReceiveMessageSize { get; init; } = 4 << 20;

    /// <summary>Largest response message sent; null leaves it unlimited (gRPC's default).</summary>
    public int? MaxSendMessageSize { get; init; }

    /// <summary>How long in-flight calls may finish when the host stops.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public ILoggerFactory? Logging { get; init; }
}
