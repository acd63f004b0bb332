using Cluster.Contracts.State;

namespace Cluster.Server.State;

/// <summary>A node's catalog entry (node, services, checks) at one index, as anti-entropy and DNS ask servers for it.</summary>
public static class CatalogReplies
{
    public static NodeStateReply NodeState(StateVersion state, string node)
    {
        ArgumentNullException.ThrowIfNull(state);
        var services = state.NodeServices(node);
        var checks = state.NodeChecks(node);
        var reply = new NodeStateReply { Index = Math.Max(services.Index, checks.Index) };
        if (services.Result is { } found)
        {
            reply.Node = found.Node;
            reply.Services.Add(found.Services);
            reply.Checks.Add(checks.Result);
        }

        return reply;
    }
}
