using System.Globalization;
using System.Net;
using Cluster.Server.Core;
using Microsoft.Extensions.Logging;

namespace Cluster.Cli;

/// <summary>`cluster agent`: flags as Consul names them; runs until SIGINT/SIGTERM.</summary>
public static class AgentCommand
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        AgentSettings settings;
        try
        {
            settings = Parse(args);
        }
        catch (FormatException e)
        {
            error.WriteLine($"cluster agent: {e.Message}");
            return 1;
        }

        using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(settings.LogLevel).AddFilter("Microsoft", LogLevel.Warning).AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        }));
        try
        {
            return RunAsync(settings, loggerFactory, output).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
        {
            error.WriteLine($"==> Error starting agent: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> RunAsync(AgentSettings settings, ILoggerFactory loggerFactory, TextWriter output)
    {
        var host = await AgentHost.StartAsync(settings, loggerFactory);
        await using (host.ConfigureAwait(false))
        {
            await host.RunUntilSignalAsync(output);
        }

        return 0;
    }

    /// <summary>Parses -flag=value / -flag value (single or double dash).</summary>
    public static AgentSettings Parse(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        string[] booleans = ["dev", "server", "bootstrap"];
        string[] known = ["dev", "server", "bootstrap", "bootstrap-expect", "node", "bind", "advertise", "client", "data-dir", "retry-join", "join", "datacenter", "http-port", "dns-port", "grpc-port", "server-port", "serf-lan-port", "serf-wan-port", "encrypt", "retry-interval", "log-level", "config-file", "config-dir"];
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-'))
            {
                throw new FormatException($"unexpected argument \"{arg}\"");
            }

            var name = arg.TrimStart('-');
            string? value = null;
            if (name.IndexOf('=', StringComparison.Ordinal) is var eq and >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }

            if (!known.Contains(name))
            {
                throw new FormatException($"flag provided but not defined: -{name}");
            }

            if (value is null)
            {
                if (booleans.Contains(name))
                {
                    value = "true";
                }
                else if (i + 1 < args.Length)
                {
                    value = args[++i];
                }
                else
                {
                    throw new FormatException($"flag needs an argument: -{name}");
                }
            }

            if (!values.TryGetValue(name, out var list))
            {
                values[name] = list = [];
            }

            list.Add(value);
        }

        string? One(string name) => values.TryGetValue(name, out var list) ? list[^1] : null;
        bool Flag(string name) => One(name) is { } v && (v == "true" || (v != "false" ? throw new FormatException($"invalid boolean value \"{v}\" for -{name}") : false));
        int Port(string name, int fallback) => One(name) is { } v
            ? int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 0 and <= 65535 ? port : throw new FormatException($"invalid value \"{v}\" for flag -{name}: a port is 0–65535 (0 picks a free one)")
            : fallback;
        IPAddress Address(string name, IPAddress fallback) => One(name) is { } v
            ? IPAddress.TryParse(v, out var address) ? address : throw new FormatException($"invalid value \"{v}\" for flag -{name}: not an IP address")
            : fallback;

        if (values.ContainsKey("config-file") || values.ContainsKey("config-dir"))
        {
            throw new FormatException("-config-file and -config-dir are not read yet by this build");
        }

        var dev = Flag("dev");
        var expect = One("bootstrap-expect") is { } e
            ? int.TryParse(e, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new FormatException($"invalid value \"{e}\" for flag -bootstrap-expect")
            : 0;
        if (dev && expect > 0)
        {
            throw new FormatException("'bootstrap_expect' not allowed in dev mode");
        }

        if (!dev && !Flag("server"))
        {
            throw new FormatException("client agents arrive with the client-agents issue: run with -server or -dev");
        }

        var dataDir = One("data-dir");
        if (!dev && string.IsNullOrEmpty(dataDir))
        {
            throw new FormatException("data_dir cannot be empty (set -data-dir)");
        }

        var bind = Address("bind", dev ? IPAddress.Loopback : IPAddress.Any);
        var retryInterval = TimeSpan.FromSeconds(30);
        if (One("retry-interval") is { } ri && !Cluster.Server.Http.GoDuration.TryParse(ri, out retryInterval))
        {
            throw new FormatException($"invalid value \"{ri}\" for flag -retry-interval");
        }

        var datacenter = (One("datacenter") ?? "dc1").ToLowerInvariant();
        var server = new ServerOptions
        {
            NodeName = One("node") ?? Dns.GetHostName(),
            Datacenter = datacenter,
            DataDirectory = dev ? Path.Combine(Path.GetTempPath(), $"cluster-dev-{Guid.NewGuid():N}") : Path.GetFullPath(dataDir!),
            Bind = bind,
            Advertise = One("advertise") is { } adv ? IPAddress.Parse(adv) : null,
            ServerPort = Port("server-port", 8300),
            SerfLanPort = Port("serf-lan-port", 8301),
            BootstrapExpect = expect,
            Bootstrap = dev || Flag("bootstrap"),
            RetryJoin = [.. values.GetValueOrDefault("retry-join") ?? [], .. values.GetValueOrDefault("join") ?? []],
            RetryInterval = retryInterval,
            Encrypt = One("encrypt"),
            Fsync = !dev,
        };
        return new AgentSettings
        {
            Server = server,
            Client = Address("client", IPAddress.Loopback),
            HttpPort = Port("http-port", 8500),
            Dev = dev,
            LogLevel = (One("log-level") ?? "info").ToLowerInvariant() switch
            {
                "trace" => LogLevel.Trace,
                "debug" => LogLevel.Debug,
                "info" => LogLevel.Information,
                "warn" => LogLevel.Warning,
                "error" => LogLevel.Error,
                var other => throw new FormatException($"invalid log level \"{other}\""),
            },
        };
    }
}
