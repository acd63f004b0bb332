using Cluster.Actors.Serialization;
using Microsoft.Extensions.Logging;

namespace Cluster.Actors;

/// <summary>One node's actor system: where it listens, what crosses nodes, and how it forms its cluster.</summary>
public sealed record ActorNodeOptions
{
    /// <summary>The system name; every node of one datacenter's cluster uses the same.</summary>
    public string SystemName { get; init; } = "mesh";

    /// <summary>Address advertised for remoting (what other nodes dial).</summary>
    public string Hostname { get; init; } = "127.0.0.1";

    /// <summary>Address to bind when it differs from <see cref="Hostname"/> (an agent bound to 0.0.0.0).</summary>
    public string? BindHostname { get; init; }

    /// <summary>Remoting port; 0 picks a free one (advertised through the gossip tag).</summary>
    public int Port { get; init; }

    public MessageRegistry Messages { get; init; } = MessageRegistry.Empty;

    /// <summary>
    /// Whether this node expects peers (it has join addresses). If so it forms nothing until gossip
    /// has shown it another member with actors, so an agent started before its servers does not
    /// make a cluster of one that can never merge with theirs.
    /// </summary>
    public bool ExpectPeers { get; init; }

    /// <summary>How long gossip may keep learning members before seeds are chosen (after the first peer, when <see cref="ExpectPeers"/>).</summary>
    public TimeSpan SettleAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>HOCON laid over ours (tests: log levels, timeouts).</summary>
    public string? ExtraConfig { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Where Akka's log goes; null keeps Akka's own stdout logger (tests and tools).</summary>
    public ILoggerFactory? Logging { get; init; }
}
