using Cluster.Agent.Config;
using Cluster.Server.Core;
using Cluster.Server.Http;
using Cluster.Server.Wire;
using Microsoft.Extensions.Logging;

namespace Cluster.Server.Agent;

/// <summary>
/// What the configuration files declare beyond the agent itself: services and checks (owned by
/// this agent) and bootstrap config entries (written once, only where none exists yet, as
/// Consul's <c>config_entries.bootstrap</c>). Applied in the background until the cluster has a
/// leader to take the writes.
/// </summary>
public static partial class ConfiguredState
{
    public static async Task ApplyAsync(AgentHost host, AgentConfig config, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(config);
        var pending = new List<Func<Task>>();
        foreach (var definition in config.Services)
        {
            pending.Add(() => host.Agent.RegisterServiceAsync(Service(definition), [.. definition.AllChecks.Select(c => (Check(c, definition.Id), c.Ttl))], cancellationToken));
        }

        foreach (var definition in config.Checks)
        {
            pending.Add(() => host.Agent.RegisterCheckAsync(Check(definition, definition.ServiceId ?? ""), definition.Ttl, cancellationToken));
        }

        foreach (var entry in config.ConfigEntriesBootstrap)
        {
            var validated = ConfigEntries.Validate(entry);
            pending.Add(() => host.Server.ApplyAsync(new Command { Config = new ConfigOp { Verb = ConfigOp.Types.Verb.Cas, Index = 0, Entry = validated } }, cancellationToken));
        }

        var wait = TimeSpan.FromMilliseconds(200);
        foreach (var step in pending)
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await step();
                    break;
                }
                catch (Exception e) when (e is NoLeaderException or Grpc.RpcException or KeyNotFoundException)
                {
                    LogRetry(logger, e.Message);
                    await Task.Delay(wait, host.Server.Options.Time, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
                    wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    public static Service Service(ServiceDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var service = new Service
        {
            Id = definition.Id,
            Name = definition.Name,
            Address = definition.Address ?? "",
            Port = definition.Port,
            EnableTagOverride = definition.EnableTagOverride,
            Kind = definition.Kind ?? "",
            WeightPassing = definition.Weights.Passing,
            WeightWarning = definition.Weights.Warning,
            ProxyJson = definition.Proxy?.ToJsonString() ?? "",
            ConnectJson = definition.Connect?.ToJsonString() ?? "",
        };
        service.Tags.AddRange(definition.Tags);
        foreach (var (key, value) in definition.Meta)
        {
            service.Meta[key] = value;
        }

        return service;
    }

    public static Check Check(CheckDefinition definition, string serviceId)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return new Check
        {
            Id = definition.Id,
            Name = definition.Name,
            Notes = definition.Notes ?? "",
            Status = definition.Status,
            ServiceId = serviceId,
            Type = definition.Kind.ToString().ToLowerInvariant(),
            Interval = definition.Interval is { } interval ? GoDuration.Format(interval) : "",
            Timeout = definition.Timeout is { } timeout ? GoDuration.Format(timeout) : "",
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "configured services and entries wait for a leader: {Reason}")]
    private static partial void LogRetry(ILogger logger, string reason);
}
