using Cluster.Server.Nodes;
using System.Net;
using System.Runtime.InteropServices;
using Cluster.Actors;
using Cluster.Actors.Formation;
using Cluster.Agent.Dns;
using Cluster.Agent.Local;
using Cluster.Agent.Client;
using Cluster.Agent.Http;
using Microsoft.Extensions.Logging;

namespace Cluster.Agent.Host;

/// <summary>What `cluster agent` runs: the node (server or client), the local agent and the HTTP API.</summary>
public sealed record AgentSettings
{
    public required ServerOptions Server { get; init; }

    public IPAddress Client { get; init; } = IPAddress.Loopback;

    public int HttpPort { get; init; } = 8500;

    /// <summary>UDP and TCP; 0 picks a free port, -1 turns DNS off.</summary>
    public int DnsPort { get; init; } = 8600;

    /// <summary>Actor remoting (the datacenter's Akka cluster); 0 picks a free port, which gossip advertises.</summary>
    public int ActorsPort { get; init; } = 8303;

    /// <summary>Domain, TTLs and limits of the DNS interface; its datacenter and name server address come from <see cref="Server"/>.</summary>
    public DnsOptions? Dns { get; init; }

    /// <summary>Dev mode: the data directory is temporary and removed at shutdown.</summary>
    public bool Dev { get; init; }

    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>False for a client agent: no Raft, no store; it reaches the servers it finds in gossip.</summary>
    public bool IsServer { get; init; } = true;

    public LocalAgentOptions Local { get; init; } = new();
}

/// <summary>Runs an agent until SIGINT or SIGTERM, then leaves the pool gracefully and stops everything.</summary>
public sealed partial class AgentHost : IAsyncDisposable
{
    private readonly ILoggerFactory _loggerFactory;
    private Cluster.Agent.Checks.CheckMonitorFactory? _monitors;

    private AgentHost(AgentSettings settings, ILoggerFactory loggerFactory, IAgentNode node, ActorNode actors, LocalAgent agent, HttpApi http)
    {
        Settings = settings;
        _loggerFactory = loggerFactory;
        Node = node;
        Actors = actors;
        Agent = agent;
        Http = http;
    }

    public AgentSettings Settings { get; }

    public IAgentNode Node { get; }

    /// <summary>The server node (server agents only).</summary>
    public ServerNode Server => _server ?? throw new InvalidOperationException("a client agent runs no server");

    private ServerNode? _server;

    /// <summary>This agent's node in the datacenter's Akka cluster, formed from and downed by LAN gossip.</summary>
    public ActorNode Actors { get; }

    public LocalAgent Agent { get; }

    public HttpApi Http { get; }

    /// <summary>Null when DNS is off (<see cref="AgentSettings.DnsPort"/> -1).</summary>
    public DnsServer? Dns { get; private init; }

    /// <summary>
    /// Starts the agent. <paramref name="configured"/> registers the configuration files'
    /// services and checks before anti-entropy starts, so its first full sync already knows them
    /// (and does not remove, then re-add, what a previous run registered).
    /// </summary>
    public static async Task<AgentHost> StartAsync(AgentSettings settings, ILoggerFactory loggerFactory, CheckRunnerFactory? runners = null, Func<LocalAgent, Task>? configured = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        // The one place that knows which kind of node this is: a server's DNS reads its own store,
        // a client's asks a server (stale reads, as Consul's DNS default).
        IAgentNode node;
        Func<string, IDnsCatalog> dnsCatalog;
        ServerNode? server = null;
        if (settings.IsServer)
        {
            server = await ServerNode.StartAsync(settings.Server, loggerFactory);
            node = server;
            dnsCatalog = datacenter => new StoreDnsCatalog(server.Store, datacenter);
        }
        else
        {
            node = await ClientNode.StartAsync(settings.Server, loggerFactory);
            dnsCatalog = datacenter => new RemoteDnsCatalog(node.Servers, datacenter);
        }

        ActorNode actors;
        try
        {
            actors = await StartActorsAsync(settings, node, loggerFactory);
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }

        var aliases = new AgentAliasSource(node.NodeName, node.Servers, settings.Server.Time);
        var monitors = new Cluster.Agent.Checks.CheckMonitorFactory(
            new Cluster.Agent.Checks.CheckOptions
            {
                EnableScriptChecks = settings.Local.EnableScriptChecks,
                OutputMaxSize = settings.Local.MaxOutput,
                TimeProvider = settings.Server.Time,
                LoggerFactory = loggerFactory,
            },
            aliases);
        var agent = new LocalAgent(
            AgentIdentity.Of(node),
            node.Servers,
            () => node.Lan.Members.Count(m => m.Status is Cluster.Gossip.Wire.MemberStatus.Alive or Cluster.Gossip.Wire.MemberStatus.Suspect),
            () => settings.Server.AdvertiseAddress.ToString(),
            settings.Local,
            settings.Server.Time,
            new Random(),
            loggerFactory.CreateLogger("Cluster.Agent"))
        {
            RunnerFactory = runners ?? AgentChecks.Runners(monitors),
            Persisted = settings.Dev ? null : new RegistrationStore(Path.Combine(settings.Server.DataDirectory, "agent")),
        };
        aliases.Agent = agent;
        var http = new HttpApi(node, agent, loggerFactory, settings.Server.Time) { Actors = actors };
        DnsServer? dns = null;
        try
        {
            await http.StartAsync(new IPEndPoint(settings.Client, settings.HttpPort), loggerFactory);
            dns = StartDns(settings, dnsCatalog, loggerFactory);
        }
        catch
        {
            await http.DisposeAsync();
            await agent.DisposeAsync();
            await actors.DisposeAsync();
            await node.DisposeAsync();
            throw;
        }

        if (server is not null && settings.Server.Bootstrap)
        {
            // A lone server elects itself within one election timeout: wait for it, so that the
            // agent is usable the moment it says it is running (bounded; clients retry anyway).
            await WaitForLeaderAsync(server, TimeSpan.FromSeconds(10));
        }

        if (configured is not null)
        {
            await configured(agent);
        }

        var (restored, failed) = await http.RestoreRegistrationsAsync(CancellationToken.None);
        var log = loggerFactory.CreateLogger("Cluster.Agent");
        foreach (var failure in failed)
        {
            LogRestoreFailed(log, failure);
        }

        if (restored > 0)
        {
            LogRestored(log, restored);
        }

        agent.StartSync();
        return new AgentHost(settings, loggerFactory, node, actors, agent, http) { _monitors = monitors, Dns = dns, _server = server };
    }

    /// <summary>
    /// Joins the datacenter's Akka cluster through the LAN pool. The system is named after the
    /// datacenter, so two datacenters' agents can never merge even if one dials the other. An
    /// agent with join addresses waits to see a peer before it forms anything (it must not make a
    /// cluster of one beside its servers'); one without (-dev, a lone first server) forms alone.
    /// </summary>
    private static async Task<ActorNode> StartActorsAsync(AgentSettings settings, IAgentNode node, ILoggerFactory loggerFactory)
    {
        var options = settings.Server;
        var ownLan = node.Lan.Address;
        var actorOptions = new ActorNodeOptions
        {
            SystemName = SystemNameOf(options.Datacenter),
            Hostname = options.AdvertiseAddress.ToString(),
            BindHostname = options.Bind.ToString(),
            Port = settings.ActorsPort,
            ExpectPeers = options.RetryJoin.Any(address => address != ownLan),
            Time = options.Time,
            Logging = loggerFactory,
        };
        try
        {
            return await ActorNode.StartAsync(actorOptions, new GossipPoolView(node.Lan, actorOptions.SystemName));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Akka wraps a taken port in its own exception types: say which listener failed and why.
            var cause = e;
            while (cause is not System.Net.Sockets.SocketException && cause.InnerException is { } inner)
            {
                cause = inner;
            }

            throw new IOException($"actors port {settings.ActorsPort}: {cause.Message}", e);
        }
    }

    /// <summary>The Akka system name for a datacenter (datacenter names are already [a-z0-9_-]).</summary>
    public static string SystemNameOf(string datacenter) => $"mesh-{datacenter}";

    private static DnsServer? StartDns(AgentSettings settings, Func<string, IDnsCatalog> catalogFor, ILoggerFactory loggerFactory)
    {
        if (settings.DnsPort < 0)
        {
            return null;
        }

        var options = (settings.Dns ?? new DnsOptions { Datacenter = settings.Server.Datacenter }) with
        {
            Datacenter = settings.Server.Datacenter,
            NameServerAddress = settings.Server.AdvertiseAddress,
        };
        var dns = new DnsServer(catalogFor(options.Datacenter), options, loggerFactory.CreateLogger("Cluster.Agent.Dns"));
        dns.Start(new IPEndPoint(settings.Client, settings.DnsPort));
        return dns;
    }

    private static async Task WaitForLeaderAsync(ServerNode server, TimeSpan atMost)
    {
        using var timeout = new CancellationTokenSource(atMost);
        try
        {
            var raft = await server.RaftStarted.WaitAsync(timeout.Token);
            while (true)
            {
                var changed = raft.Changed;
                if (raft.Stats is { Leader: not 0 })
                {
                    return;
                }

                await changed.WaitAsync(timeout.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // Not elected yet: run anyway; requests answer "No cluster leader" until it is.
        }
    }

    /// <summary>What SIGHUP runs: reread the configuration files and apply what changed.</summary>
    public Func<Task>? Reload { get; set; }

    /// <summary>Runs until a termination signal (or <paramref name="stop"/>), printing Consul-style start lines; SIGHUP reloads.</summary>
    public async Task RunUntilSignalAsync(TextWriter output, CancellationToken stop = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        var signalled = new TaskCompletionSource<PosixSignal>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            signalled.TrySetResult(context.Signal);
        }

        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            _ = ReloadAsync(output);
        });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        var options = Settings.Server;
        await output.WriteLineAsync("==> Cluster agent running!");
        await output.WriteLineAsync($"           Node name: '{options.NodeName}'");
        await output.WriteLineAsync($"          Datacenter: '{options.Datacenter}'");
        await output.WriteLineAsync(Node.IsServer
            ? $"              Server: true (bootstrap: {options.Bootstrap}, expect: {options.BootstrapExpect})"
            : "              Server: false");
        await output.WriteLineAsync($"         Client Addr: [{Settings.Client}] (HTTP: {Http.Addresses[0].Port}, DNS: {Dns?.LocalEndPoint.Port ?? -1})");
        await output.WriteLineAsync($"        Cluster Addr: {options.AdvertiseAddress} (LAN: {Node.Lan.Address}, RPC: {_server?.RpcAddress ?? "none"}, Actors: {Actors.Address.Host}:{Actors.Address.Port})");
        await output.WriteLineAsync($"            Data Dir: {(Settings.Dev ? "(in memory: dev mode)" : options.DataDirectory)}");
        await output.WriteLineAsync();
        await output.WriteLineAsync("==> Log data will now stream in as it occurs:");
        await output.FlushAsync(stop);
        try
        {
            var signal = await signalled.Task.WaitAsync(stop);
            await output.WriteLineAsync($"==> Caught signal: {signal}");
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        await output.WriteLineAsync("==> Gracefully shutting down agent...");
        await output.FlushAsync(CancellationToken.None);
    }

    private async Task ReloadAsync(TextWriter output)
    {
        if (Reload is not { } reload)
        {
            return;
        }

        await output.WriteLineAsync("==> Caught signal: SIGHUP, reloading configuration");
        try
        {
            await reload();
            await output.WriteLineAsync("==> Reload complete");
        }
        catch (Exception e) when (e is Cluster.Agent.Config.AgentConfigException or KeyNotFoundException or IOException or InvalidOperationException or Cluster.Agent.Http.ApiException)
        {
            // A bad file leaves the running configuration as it was; the operator sees why.
            await output.WriteLineAsync($"==> Failed to reload configs: {e.Message}");
        }

        await output.FlushAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        // Akka first: a graceful leave hands this node's shards over (bounded) while gossip still
        // calls it alive; after the pool leave the others would down it instead.
        await Actors.DisposeAsync();
        try
        {
            await Node.Lan.LeaveAsync();
        }
        catch (ObjectDisposedException)
        {
        }

        if (Dns is not null)
        {
            await Dns.DisposeAsync();
        }

        await Http.DisposeAsync();
        await Agent.DisposeAsync();
        _monitors?.Dispose();
        await Node.DisposeAsync();
        if (Settings.Dev)
        {
            try
            {
                Directory.Delete(Settings.Server.DataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        _loggerFactory.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "registered {Count} services and checks saved by an earlier run")]
    private static partial void LogRestored(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "a saved registration was not restored: {Reason}")]
    private static partial void LogRestoreFailed(ILogger logger, string reason);
}
