using System.Net;
using Cluster.Agent.Config;
using Cluster.Agent.Host;
using Cluster.Agent.Local;
using Cluster.Server.Nodes;
using Microsoft.Extensions.Logging;

namespace Cluster.Cli;

/// <summary>`cluster agent`: flags and config files as Consul reads them (<see cref="AgentConfigLoader"/>); runs until SIGINT/SIGTERM.</summary>
public static class AgentCommand
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        AgentConfig config;
        try
        {
            var flags = AgentFlags.Parse(args);
            if (flags.Help)
            {
                output.WriteLine(AgentFlags.Usage);
                return 0;
            }

            config = AgentConfigLoader.Load(flags);
        }
        catch (AgentConfigException e)
        {
            error.WriteLine($"==> {e.Message}");
            return 1;
        }

        foreach (var warning in config.Warnings)
        {
            error.WriteLine($"==> WARNING: {warning}");
        }

        var settings = Settings(config);
        using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(settings.LogLevel).AddFilter("Microsoft", LogLevel.Warning).AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        }));
        try
        {
            return RunAsync(settings, config, args, loggerFactory, output).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
        {
            error.WriteLine($"==> Error starting agent: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> RunAsync(AgentSettings settings, AgentConfig config, string[] args, ILoggerFactory loggerFactory, TextWriter output)
    {
        var host = await AgentHost.StartAsync(settings, loggerFactory, configured: agent => ConfiguredState.RegisterAsync(agent, config, loggerFactory.CreateLogger("Cluster.Agent"), CancellationToken.None));
        await using (host.ConfigureAwait(false))
        {
            using var stop = new CancellationTokenSource();
            // SIGHUP: the same flags and files read again; services and checks follow the files.
            host.Reload = () => ConfiguredState.ReloadAsync(host, AgentConfigLoader.Load(args), stop.Token);
            var registering = ConfiguredState.ApplyAsync(host, config, loggerFactory.CreateLogger("Cluster.Agent"), stop.Token);
            await host.RunUntilSignalAsync(output);
            await stop.CancelAsync();
            await registering;
        }

        return 0;
    }

    /// <summary>What the server node needs, from the agent configuration.</summary>
    public static AgentSettings Settings(AgentConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var bind = IPAddress.Parse(config.BindAddr);
        return new AgentSettings
        {
            Server = new ServerOptions
            {
                NodeName = config.NodeName,
                Datacenter = config.Datacenter,
                DataDirectory = config.Dev ? Path.Combine(Path.GetTempPath(), $"cluster-dev-{Guid.NewGuid():N}") : Path.GetFullPath(config.DataDir!),
                Bind = bind,
                Advertise = config.AdvertiseAddr is { } advertise ? IPAddress.Parse(advertise) : null,
                ServerPort = config.Ports.Server,
                SerfLanPort = config.Ports.SerfLan,
                BootstrapExpect = config.BootstrapExpect,
                Bootstrap = config.Bootstrap,
                RetryJoin = [.. config.RetryJoin],
                RetryInterval = config.RetryInterval,
                Encrypt = config.Encrypt,
                Fsync = config.RaftFsync,
            },
            Client = IPAddress.Parse(config.ClientAddr.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]),
            HttpPort = config.Ports.Http,
            DnsPort = config.Ports.Dns,
            ActorsPort = config.Ports.Actors,
            Dev = config.Dev,
            IsServer = config.Server,
            Local = new LocalAgentOptions { EnableScriptChecks = config.EnableScriptChecks },
            LogLevel = config.LogLevel.ToLowerInvariant() switch
            {
                "trace" => LogLevel.Trace,
                "debug" => LogLevel.Debug,
                "warn" => LogLevel.Warning,
                "err" or "error" => LogLevel.Error,
                _ => LogLevel.Information,
            },
        };
    }
}
