using System.Globalization;
using Cluster.Contracts.State;
using Cluster.Gossip.Core;
using Cluster.Gossip.Wire;
using Cluster.Server.State;

namespace Cluster.Server.Leader;

/// <summary>
/// The leader's catalog reconcile as a pure function (Consul's reconcileMember): every LAN member
/// of this datacenter is a catalog node with a <c>serfHealth</c> check saying whether gossip sees
/// it alive, servers carry the <c>consul</c> service, members that left are deregistered, and so
/// are nodes gossip reaped (<see cref="ReapRule"/>). Entries already right produce no command.
/// </summary>
public static class CatalogReconcile
{
    public const string SerfCheckId = "serfHealth";
    public const string ServerService = "consul";

    public static IReadOnlyList<Command> Plan(StateVersion state, IReadOnlyList<Member> members, string datacenter, TimeSpan gossipUptime, TimeSpan convergence)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(members);
        var commands = new List<Command>();
        foreach (var member in members)
        {
            if (member.Tags.GetValueOrDefault("dc") is { } dc && dc != datacenter)
            {
                continue;
            }

            var nodeKey = StateVersion.Lower(member.Name);
            if (member.Status == MemberStatus.Left)
            {
                if (state.Nodes.TryGet(nodeKey, out _))
                {
                    commands.Add(new Command { Deregister = new Deregister { Node = member.Name } });
                }

                continue;
            }

            var alive = member.Status is MemberStatus.Alive or MemberStatus.Suspect;
            var address = member.Address[..member.Address.LastIndexOf(':')];
            var status = alive ? "passing" : "critical";
            state.Nodes.TryGet(nodeKey, out var node);
            state.Checks.TryGet(StateVersion.Key(nodeKey, SerfCheckId), out var check);
            var isServer = member.Tags.GetValueOrDefault("role") == "consul";
            var hasService = !isServer || state.Services.TryGet(StateVersion.Key(nodeKey, ServerService), out _);
            if (node is not null && node.Address == address && check?.Status == status && hasService)
            {
                continue;
            }

            var register = new Register
            {
                Node = new Node { Name = member.Name, Address = address, Datacenter = datacenter, Id = member.Tags.GetValueOrDefault("id") ?? "" },
                SkipNodeUpdate = node is not null && node.Address == address,
                Service = isServer ? new Service { Id = ServerService, Name = ServerService, Port = int.TryParse(member.Tags.GetValueOrDefault("port"), CultureInfo.InvariantCulture, out var port) ? port : 8300 } : null,
            };
            if (node is not null)
            {
                register.Node.Meta.Add(node.Meta);
                register.Node.TaggedAddresses.Add(node.TaggedAddresses);
            }

            register.Checks.Add(new Check
            {
                Id = SerfCheckId,
                Name = "Serf Health Status",
                Status = status,
                Output = alive ? "Agent alive and reachable" : "Agent not live or unreachable",
                Type = "",
            });
            commands.Add(new Command { Register = register });
        }

        var serfChecks = state.Checks.PrefixWatch("").Entries.Select(e => e.Value).Where(c => c.Id == SerfCheckId).Select(c => (c.Node, c.Status));
        foreach (var reaped in ReapRule.Reaped(serfChecks, members.Select(m => m.Name), gossipUptime, convergence))
        {
            commands.Add(new Command { Deregister = new Deregister { Node = reaped } });
        }

        return commands;
    }
}
