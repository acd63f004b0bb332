using System.Globalization;
using Cluster.Gossip.Wire;
using Cluster.Server.Rpc;
using Cluster.Contracts.State;
using Microsoft.Extensions.Logging;

namespace Cluster.Server.Nodes;

/// <summary>Joining the LAN pool and starting Raft: bootstrap once the expected servers are seen, or wait to be added.</summary>
public sealed partial class ServerNode
{
    /// <summary>A server of this datacenter as gossip tags describe it.</summary>
    public sealed record ServerMember(string Name, ulong RaftId, string RpcAddress, int Expect, MemberStatus Status);

    public IReadOnlyList<ServerMember> ServerMembers() =>
    [
        .. Lan.Members
            .Where(m => m.Tags.GetValueOrDefault("role") == "consul" && m.Tags.GetValueOrDefault("dc") == Options.Datacenter)
            .Select(m => new ServerMember(
                m.Name,
                ulong.TryParse(m.Tags.GetValueOrDefault("raft_id"), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : 0,
                m.Tags.GetValueOrDefault("rpc_addr") ?? "",
                int.TryParse(m.Tags.GetValueOrDefault("expect"), NumberStyles.None, CultureInfo.InvariantCulture, out var expect) ? expect : 0,
                m.Status))
            .Where(s => s.RaftId != 0 && s.RpcAddress.Length > 0),
    ];

    /// <summary>
    /// Consul's -bootstrap-expect: once this many servers are alive in gossip, and none of them
    /// already belongs to a cluster, all of them start Raft with the same founding voters (every
    /// server derives the set from the same gossip view). If any already has Raft state, this
    /// server starts empty and the leader adds it.
    /// </summary>
    private async Task BootstrapWhenExpectedAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (Options.BootstrapExpect <= 0)
            {
                StartRaft(new Dictionary<ulong, string>());
                return;
            }

            while (!cancellationToken.IsCancellationRequested)
            {
                var changed = Lan.Changed;
                var servers = ServerMembers().Where(s => s.Status == MemberStatus.Alive).ToList();
                foreach (var mismatch in servers.Where(s => s.Expect != 0 && s.Expect != Options.BootstrapExpect))
                {
                    LogExpectMismatch(_logger, mismatch.Name, mismatch.Expect, Options.BootstrapExpect);
                }

                if (servers.Count >= Options.BootstrapExpect)
                {
                    var existing = await AnyHasStateAsync(servers, cancellationToken);
                    if (existing is null)
                    {
                        // Someone did not answer: look again shortly rather than guess.
                    }
                    else if (existing.Value)
                    {
                        StartRaft(new Dictionary<ulong, string>());
                        return;
                    }
                    else
                    {
                        LogBootstrapping(_logger, servers.Count);
                        StartRaft(servers.ToDictionary(s => s.RaftId, s => s.RpcAddress));
                        return;
                    }
                }

                await Task.WhenAny(changed, Task.Delay(TimeSpan.FromSeconds(1), Options.Time, cancellationToken));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>true: a peer is already in a cluster; false: none is; null: a peer did not answer.</summary>
    private async Task<bool?> AnyHasStateAsync(IReadOnlyList<ServerMember> servers, CancellationToken cancellationToken)
    {
        foreach (var server in servers.Where(s => s.RaftId != RaftId))
        {
            try
            {
                using var deadline = new RpcDeadline(TimeSpan.FromSeconds(2), Options.Time, cancellationToken);
                var status = await Channel(server.RpcAddress).StatusAsync(new StatusRequest(), cancellationToken: deadline.Token);
                if (status.HasState)
                {
                    return true;
                }
            }
            catch (global::Grpc.Core.RpcException)
            {
                return null;
            }
        }

        return false;
    }

    /// <summary>Joins the addresses given, backing off from one second to <see cref="ServerOptions.RetryInterval"/> until one answers.</summary>
    private async Task RetryJoinAsync(CancellationToken cancellationToken)
    {
        if (await LanJoin.RetryAsync(Lan, Options.RetryJoin, Options.RetryInterval, Options.Time, cancellationToken) is > 0 and var joined)
        {
            LogJoined(_logger, joined);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "server {Name} expects {Theirs} servers, this one {Ours}: bootstrap-expect must agree")]
    private static partial void LogExpectMismatch(ILogger logger, string name, int theirs, int ours);

    [LoggerMessage(Level = LogLevel.Information, Message = "bootstrapping a new cluster with {Count} servers")]
    private static partial void LogBootstrapping(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "joined the LAN pool ({Count} answered)")]
    private static partial void LogJoined(ILogger logger, int count);
}
