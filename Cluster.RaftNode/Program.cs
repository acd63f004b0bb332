using System.Globalization;
using System.Net;
using Cluster.Raft.Server;
using Cluster.Raft.Transport;
using Cluster.RaftNode;
using Cluster.Server.Rpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// Arguments: --id N --dir PATH [--port P] [--no-fsync] [--snapshot-threshold N] [--tick-ms N]
var arguments = args.Select((value, i) => (value, i)).Where(a => a.value.StartsWith("--", StringComparison.Ordinal))
    .ToDictionary(a => a.value[2..], a => a.i + 1 < args.Length && !args[a.i + 1].StartsWith("--", StringComparison.Ordinal) ? args[a.i + 1] : "");
ulong id = ulong.Parse(arguments["id"], CultureInfo.InvariantCulture);
var directory = arguments["dir"];
var port = arguments.TryGetValue("port", out var p) ? int.Parse(p, CultureInfo.InvariantCulture) : 0;

using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning));
var stateMachine = new KvStateMachine();
RaftServer? raft = null;
var started = new TaskCompletionSource<RaftServer>(TaskCreationOptions.RunContinuationsAsynchronously);

await using var server = await GrpcHost.StartAsync(
    new GrpcHostOptions { Endpoints = [new IPEndPoint(IPAddress.Loopback, port)], MaxReceiveMessageSize = 64 << 20, Logging = loggerFactory },
    services => services.AddSingleton(new KvService(stateMachine, started.Task)).AddSingleton(new RaftService(() => raft?.Transport)),
    endpoints =>
    {
        endpoints.MapGrpcService<KvService>();
        endpoints.MapGrpcService<RaftService>();
    });
port = server.Addresses[0].Port;
Console.WriteLine($"listening {port}");

// "start 1=127.0.0.1:P1,2=...": the founding voters (used only if the data directory is empty).
var line = await Console.In.ReadLineAsync();
if (line is null || !line.StartsWith("start", StringComparison.Ordinal))
{
    return 2;
}

var bootstrap = line[5..].Trim().Split(',', StringSplitOptions.RemoveEmptyEntries)
    .Select(pair => pair.Split('='))
    .ToDictionary(pair => ulong.Parse(pair[0], CultureInfo.InvariantCulture), pair => pair[1]);
raft = new RaftServer(
    new RaftServerOptions
    {
        Id = id,
        Address = $"127.0.0.1:{port}",
        DataDirectory = directory,
        Bootstrap = bootstrap,
        Fsync = !arguments.ContainsKey("no-fsync"),
        SnapshotThreshold = arguments.TryGetValue("snapshot-threshold", out var threshold) ? ulong.Parse(threshold, CultureInfo.InvariantCulture) : 16_384,
        TickInterval = TimeSpan.FromMilliseconds(arguments.TryGetValue("tick-ms", out var tick) ? int.Parse(tick, CultureInfo.InvariantCulture) : 50),
    },
    stateMachine,
    loggerFactory);
raft.Start();
started.SetResult(raft);
Console.WriteLine("started");

// Runs until stdin closes (or the process is killed, which is what the crash tests do).
while (await Console.In.ReadLineAsync() is not null)
{
}

await raft.DisposeAsync();
return 0;
