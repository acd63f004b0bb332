using Cluster.Agent.Checks;
using Cluster.Agent.Config;
using Cluster.Server.Nodes;

namespace Cluster.Agent.Local;

/// <summary>The check monitors of <c>Cluster.Agent.Checks</c> as the local agent's runners.</summary>
public static class AgentChecks
{
    public static CheckRunnerFactory Runners(CheckMonitorFactory monitors)
    {
        ArgumentNullException.ThrowIfNull(monitors);
        return (id, definition, report) =>
        {
            if (!CheckMonitorFactory.IsMonitored(definition.Kind))
            {
                return null;
            }

            try
            {
                return new MonitorRunner(monitors.Create(definition, update => report(update.Status, update.Output)));
            }
            catch (InvalidCheckException e)
            {
                throw new ArgumentException(e.Message, nameof(definition), e);
            }
        };
    }

    private sealed class MonitorRunner(CheckMonitor monitor) : ICheckRunner
    {
        public void Start() => monitor.Start();

        public ValueTask DisposeAsync() => monitor.DisposeAsync();
    }
}

/// <summary>
/// Where alias checks read what they mirror: this agent's own state for its node (woken by every
/// local change), the servers' catalog for another node (re-read every <see cref="RemoteInterval"/>,
/// stale, since client RPCs do not block).
/// </summary>
public sealed class AgentAliasSource(string nodeName, IServerConnection servers, TimeProvider time) : IAliasSource
{
    public LocalAgent? Agent { get; set; }

    public TimeSpan RemoteInterval { get; init; } = TimeSpan.FromSeconds(10);

    public async Task<AliasSnapshot> WaitAsync(AliasTarget target, long sinceVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (target.Node is null || string.Equals(target.Node, nodeName, StringComparison.OrdinalIgnoreCase))
        {
            var agent = Agent ?? throw new InvalidOperationException("the alias source has no agent yet");
            while (true)
            {
                var changed = agent.Changed;
                if (agent.Version != sinceVersion || sinceVersion == 0)
                {
                    return Snapshot(agent.Version, agent.Checks, target.ServiceId, agent.Services.Any(s => s.Id == target.ServiceId));
                }

                await changed.WaitAsync(TimeSpan.FromMinutes(5), time, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
                cancellationToken.ThrowIfCancellationRequested();
                if (agent.Version == sinceVersion)
                {
                    return Snapshot(agent.Version, agent.Checks, target.ServiceId, agent.Services.Any(s => s.Id == target.ServiceId));
                }
            }
        }

        if (sinceVersion != 0)
        {
            await Task.Delay(RemoteInterval, time, cancellationToken);
        }

        var remote = await servers.NodeStateAsync(target.Node, Consistency.Stale, cancellationToken);
        return Snapshot((long)remote.Index, remote.Checks, target.ServiceId, remote.Services.Any(s => s.Id == target.ServiceId));
    }

    private static AliasSnapshot Snapshot(long version, IEnumerable<Contracts.State.Check> checks, string? serviceId, bool serviceExists) =>
        new(
            version,
            ValueList.From(checks
                .Where(c => c.Type != "alias" && (c.ServiceId.Length == 0 || c.ServiceId == serviceId)) // an alias never mirrors itself
                .Select(c => new AliasedCheck(c.Id, c.Name, c.ServiceId, c.Status, c.Output))),
            serviceId is null || serviceExists);
}
