using System.Net;
using System.Runtime.InteropServices;
using Cluster.Agent.Dns;
using Cluster.Server.Agent;
using Cluster.Server.Http;
using Microsoft.Extensions.Logging;

namespace Cluster.Server.Core;

/// <summary>What `cluster agent` runs: the server node, the local agent and the HTTP API.</summary>
public sealed record AgentSettings
{
    public required ServerOptions Server { get; init; }

    public IPAddress Client { get; init; } = IPAddress.Loopback;

    public int HttpPort { get; init; } = 8500;

    /// <summary>UDP and TCP; 0 picks a free port, -1 turns DNS off.</summary>
    public int DnsPort { get; init; } = 8600;

    /// <summary>Domain, TTLs and limits of the DNS interface; its datacenter and name server address come from <see cref="Server"/>.</summary>
    public DnsOptions? Dns { get; init; }

    /// <summary>Dev mode: the data directory is temporary and removed at shutdown.</summary>
    public bool Dev { get; init; }

    public LogLevel LogLevel { get; init; } = LogLevel.Information;
}

/// <summary>Runs an agent until SIGINT or SIGTERM, then leaves the pool gracefully and stops everything.</summary>
public sealed class AgentHost : IAsyncDisposable
{
    private readonly ILoggerFactory _loggerFactory;

    private AgentHost(AgentSettings settings, ILoggerFactory loggerFactory, ServerNode server, LocalAgent agent, HttpApi http)
    {
        Settings = settings;
        _loggerFactory = loggerFactory;
        Server = server;
        Agent = agent;
        Http = http;
    }

    public AgentSettings Settings { get; }

    public ServerNode Server { get; }

    public LocalAgent Agent { get; }

    public HttpApi Http { get; }

    /// <summary>Null when DNS is off (<see cref="AgentSettings.DnsPort"/> -1).</summary>
    public DnsServer? Dns { get; private init; }

    public static async Task<AgentHost> StartAsync(AgentSettings settings, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var server = await ServerNode.StartAsync(settings.Server, loggerFactory);
        var agent = new LocalAgent(
            settings.Server.NodeName,
            () => settings.Server.AdvertiseAddress.ToString(),
            (command, token) => server.ApplyAsync(command, token),
            settings.Server.Time);
        var http = new HttpApi(server, agent, loggerFactory);
        DnsServer? dns = null;
        try
        {
            await http.StartAsync(new IPEndPoint(settings.Client, settings.HttpPort), loggerFactory);
            dns = StartDns(settings, server, loggerFactory);
        }
        catch
        {
            await http.DisposeAsync();
            await agent.DisposeAsync();
            await server.DisposeAsync();
            throw;
        }

        if (settings.Server.Bootstrap)
        {
            // A lone server elects itself within one election timeout: wait for it, so that the
            // agent is usable the moment it says it is running (bounded; clients retry anyway).
            await WaitForLeaderAsync(server, TimeSpan.FromSeconds(10));
        }

        return new AgentHost(settings, loggerFactory, server, agent, http) { Dns = dns };
    }

    private static DnsServer? StartDns(AgentSettings settings, ServerNode server, ILoggerFactory loggerFactory)
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
        var dns = new DnsServer(new StoreDnsCatalog(server.Store, options.Datacenter), options, loggerFactory.CreateLogger("Cluster.Agent.Dns"));
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

    /// <summary>Runs until a termination signal (or <paramref name="stop"/>), printing Consul-style start lines.</summary>
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
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        var options = Settings.Server;
        await output.WriteLineAsync("==> Cluster agent running!");
        await output.WriteLineAsync($"           Node name: '{options.NodeName}'");
        await output.WriteLineAsync($"          Datacenter: '{options.Datacenter}'");
        await output.WriteLineAsync($"              Server: true (bootstrap: {options.Bootstrap}, expect: {options.BootstrapExpect})");
        await output.WriteLineAsync($"         Client Addr: [{Settings.Client}] (HTTP: {Http.Addresses[0].Port}, DNS: {Dns?.LocalEndPoint.Port ?? -1})");
        await output.WriteLineAsync($"        Cluster Addr: {options.AdvertiseAddress} (LAN: {Server.Lan.Address}, RPC: {Server.RpcAddress})");
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

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Server.Lan.LeaveAsync();
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
        await Server.DisposeAsync();
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
}
