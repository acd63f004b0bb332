using Cluster.Contracts.State;

namespace Cluster.Server.State;

/// <summary>The catalog reads client agents ask servers for, as their wire replies.</summary>
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

    public static ServiceInstancesReply ServiceInstances(StateVersion state, string service, string? tag)
    {
        ArgumentNullException.ThrowIfNull(state);
        var read = state.HealthService(service, tag is { Length: > 0 } ? [tag] : null);
        var reply = new ServiceInstancesReply { Index = read.Index };
        foreach (var instance in read.Result)
        {
            var wire = new CatalogInstance { Node = instance.Node, Service = instance.Service };
            wire.Checks.Add(instance.Checks);
            reply.Instances.Add(wire);
        }

        return reply;
    }
}
