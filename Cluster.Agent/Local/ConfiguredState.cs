using Cluster.Agent.Host;
using Cluster.Contracts;
using Cluster.Agent.Config;
using Cluster.Server.Nodes;
using Cluster.Agent.Http;
using Cluster.Contracts.State;
using Microsoft.Extensions.Logging;

namespace Cluster.Agent.Local;

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
        foreach (var entry in config.ConfigEntriesBootstrap)
        {
            var validated = ConfigEntries.Validate(entry);
            pending.Add(() => host.Node.Servers.ApplyAsync(new Command { Config = new ConfigOp { Verb = ConfigOp.Types.Verb.Cas, Index = 0, Entry = validated } }, cancellationToken));
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
                catch (Exception e) when (e is NoLeaderException or global::Grpc.Core.RpcException or KeyNotFoundException)
                {
                    LogRetry(logger, e.Message);
                    await Task.Delay(wait, host.Settings.Server.Time, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
                    wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// A reload (SIGHUP): what the files no longer declare goes, what they declare is registered
    /// again (an unchanged check keeps its status and its runner). API registrations stay.
    /// </summary>
    public static async Task ReloadAsync(AgentHost host, AgentConfig config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(config);
        var (services, checks) = host.Agent.FromSource(LocalSource.Config);
        foreach (var id in services.Where(id => !config.Services.Any(s => s.Id == id)))
        {
            await host.Agent.DeregisterServiceAsync(id, cancellationToken);
        }

        foreach (var id in checks.Where(id => !config.Checks.Any(c => c.Id == id)))
        {
            await host.Agent.DeregisterCheckAsync(id, cancellationToken);
        }

        await RegisterAsync(host.Agent, config, null, cancellationToken);
    }

    /// <summary>
    /// The files' services, then their checks, each group at once: every registration returns when
    /// the sync that carries it is done, and one sync carries many (1,000 services are a few
    /// batched writes, not 1,000 in a row).
    /// </summary>
    public static async Task RegisterAsync(LocalAgent agent, AgentConfig config, ILogger? logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(agent);
        ArgumentNullException.ThrowIfNull(config);
        await Task.WhenAll(config.Services.Select(definition => Guarded(
            () => agent.RegisterServiceAsync(Service(definition), [.. definition.AllChecks.Select(c => new LocalCheckSpec(Check(c, definition.Id), c))], cancellationToken, LocalSource.Config),
            logger)));
        await Task.WhenAll(config.Checks.Select(definition => Guarded(
            () => agent.RegisterCheckAsync(new LocalCheckSpec(Check(definition, definition.ServiceId ?? ""), definition), cancellationToken, LocalSource.Config),
            logger)));
    }

    /// <summary>A definition the agent refuses is logged at start (the loader already checked it) and fails a reload.</summary>
    private static async Task Guarded(Func<Task> register, ILogger? logger)
    {
        try
        {
            await register();
        }
        catch (Exception e) when (logger is not null && e is ArgumentException or KeyNotFoundException)
        {
            LogRefused(logger, e.Message);
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

    [LoggerMessage(Level = LogLevel.Error, Message = "a configured service or check was refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "configured services and entries wait for a leader: {Reason}")]
    private static partial void LogRetry(ILogger logger, string reason);
}
