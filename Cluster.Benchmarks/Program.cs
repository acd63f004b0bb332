using System.Globalization;
using System.Text.Json;
using Cluster.Benchmarks;
using Cluster.Testing;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

// cluster-bench: grpc [--warmup S] [--duration S] [--rounds N] [--only TEXT] | actors [--rounds N] [--only tell|ask|memory|sharding|remote] [--entities N] | kv [--duration S] [--callers 1,16,64] [--watchers N] [--no-etcd] | raft [--duration S] [--proposers 1,16,256] [--failovers N] [--no-etcd] | gossip [--members 50,200,1000] [--seed N] | raft-sim [--nodes N] [--from SEED] [--seeds COUNT] [--timer-ticks] | checker [--rounds N] [--history FILE] | jepsen [--duration S] [--runs N] [--seed N] [--clients N] [--faults kill,pause,partition] [--stale-reads] | ca [--only sign,rotate,authorize] [--duration S] [--threads N] [--callers N] [--agents N] [--rate R] [--rotation-timeout S] [--intentions N] [--connections N] [--no-wrk] | serve-aspnet | serve-kestrel
var command = args.FirstOrDefault() ?? "grpc";
switch (command)
{
    case "serve-kestrel":
        return await ServeAsync(BareKestrel.Build());

    case "serve-aspnet":
        return await ServeAsync(LibraryEcho.Build());

    case "grpc":
        await GrpcBenchmark.RunAsync(Option("--warmup", 1), Option("--duration", 3), IntOption("--rounds", 3), StringOption("--only"));
        return 0;

    case "raft":
        await RaftBenchmark.RunAsync(
            Option("--duration", 5),
            [.. (StringOption("--proposers") ?? "1,16,256").Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture))],
            IntOption("--failovers", 5),
            !args.Contains("--no-etcd"));
        return 0;

    case "kv":
        await KvBenchmark.RunAsync(
            Option("--duration", 5),
            [.. (StringOption("--callers") ?? "1,16,64").Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture))],
            IntOption("--watchers", 10_000),
            !args.Contains("--no-etcd"));
        return 0;

    case "sync":
        await SyncBenchmark.RunAsync(IntOption("--services", 1000));
        return 0;

    case "gossip":
        GossipBenchmark.Run([.. (StringOption("--members") ?? "50,200,1000").Split(',').Select(m => int.Parse(m, CultureInfo.InvariantCulture))], IntOption("--seed", 1));
        return 0;

    case "raft-sim":
        return RaftSimCommand.Run(IntOption("--nodes", 3), IntOption("--from", 0), IntOption("--seeds", 1000), catchUpOnResume: !args.Contains("--timer-ticks"));

    case "checker":
        return CheckerBenchmark.Run(IntOption("--rounds", 3), StringOption("--history"));

    case "jepsen":
        return await JepsenCommand.RunAsync(
            new Cluster.Testing.Jepsen.JepsenOptions
            {
                Duration = Option("--duration", 120),
                Seed = IntOption("--seed", 1),
                Clients = IntOption("--clients", 6),
                Faults = [.. (StringOption("--faults") ?? "kill,pause,partition").Split(',').Select(f => Enum.Parse<Cluster.Testing.Jepsen.FaultKind>(f, ignoreCase: true))],
                StaleReads = args.Contains("--stale-reads"),
            },
            IntOption("--runs", 1));

    case "ca":
        await CaBenchmark.RunAsync(
            StringOption("--only") ?? "sign,rotate,authorize",
            Option("--duration", 5),
            IntOption("--threads", Environment.ProcessorCount),
            IntOption("--callers", 16),
            IntOption("--agents", 10_000),
            double.Parse(StringOption("--rate") ?? "50", CultureInfo.InvariantCulture),
            Option("--rotation-timeout", 900),
            IntOption("--intentions", 10_000),
            IntOption("--connections", 32),
            !args.Contains("--no-wrk"));
        return 0;

    case "actors":
        await ActorBenchmark.RunAsync(IntOption("--rounds", 3), StringOption("--only"), IntOption("--entities", 100_000));
        return 0;

    default:
        Console.Error.WriteLine($"unknown command '{command}'; use grpc, actors, kv, sync, ca, raft, gossip, raft-sim, checker, jepsen, serve-aspnet or serve-kestrel");
        return 2;
}

// A server process for the benchmark: prints its port, serves until its stdin closes.
static async Task<int> ServeAsync(Microsoft.AspNetCore.Builder.WebApplication app)
{
    await using (app)
    {
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Console.WriteLine($"listening {new Uri(address).Port}");
        await Console.In.ReadToEndAsync();
        await app.StopAsync();
    }

    return 0;
}

string? StringOption(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

int IntOption(string name, int value)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : value;
}

TimeSpan Option(string name, double seconds)
{
    var i = Array.IndexOf(args, name);
    return TimeSpan.FromSeconds(i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : seconds);
}

/// <summary>
/// The gRPC layer side by side with its ceiling (bare Kestrel + HttpClient doing the same byte
/// exchange) and with grpc-js, each pair as separate client and server processes on loopback.
/// </summary>
internal static class GrpcBenchmark
{
    private const int Window = 64;

    // only: measure just the pairs whose name contains it (the ratio table needs all three main pairs).
    public static async Task RunAsync(TimeSpan warmup, TimeSpan duration, int rounds, string? only)
    {
        Console.WriteLine($"# gRPC benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}; each cell: {warmup.TotalSeconds}s warm-up, {duration.TotalSeconds}s measured, median of {rounds} rounds");
        Console.WriteLine($"# payload: EchoRequest/EchoReply with a {BenchPayload.PayloadSize}-byte field; bidi keeps {Window} messages in flight on one stream");
        Console.WriteLine();

        // All servers stay up; rounds interleave the pairs so drift in the machine hits them alike.
        await using var kestrel = await StartSelfAsync("serve-kestrel");
        await using var library = await StartSelfAsync("serve-aspnet");
        await using var js = await PeerProcess.StartNodeServerAsync("server.js");
        var pairs = new (string Name, Func<Task<Row>> Measure)[]
        {
            ("ceiling: bare Kestrel + HttpClient", () => RawClientRow(kestrel.Address)),
            ("library: Grpc.Net.Client -> Grpc.AspNetCore", () => LibraryClient(library.Address)),
            ("grpc-js: client -> server", () => JsClient(js.Port)),
            ("split: Grpc.Net.Client -> bare Kestrel", () => LibraryClient(kestrel.Address)),
            ("split: HttpClient -> Grpc.AspNetCore", () => RawClientRow(library.Address)),
            ("mixed: grpc-js client -> Grpc.AspNetCore", () => JsClient(library.Port)),
            ("mixed: Grpc.Net.Client -> grpc-js server", () => LibraryClient(js.Address)),
        };

        pairs = pairs.Where(p => only is null || p.Name.Contains(only, StringComparison.Ordinal)).ToArray();
        var results = pairs.ToDictionary(p => p.Name, _ => new List<Row>());
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var (name, measure) in pairs)
            {
                Console.Error.WriteLine($"round {round}/{rounds}: {name}");
                results[name].Add(await measure());
            }
        }

        var rows = pairs.Select(p => Row.Median(p.Name, results[p.Name])).ToList();
        Console.WriteLine("| pair | unary, 1 caller | unary, 64 callers | bidi, 1 stream |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var row in rows)
        {
            Console.WriteLine($"| {row.Name} | {Cell(row.Unary1)} | {Cell(row.Unary64)} | {row.Bidi.PerSecond.ToString("N0", CultureInfo.InvariantCulture)} msg/s |");
        }

        if (only is not null)
        {
            return;
        }

        var ceiling = rows.Single(r => r.Name.StartsWith("ceiling", StringComparison.Ordinal));
        var lib = rows.Single(r => r.Name.StartsWith("library", StringComparison.Ordinal));
        var grpcJs = rows.Single(r => r.Name.StartsWith("grpc-js", StringComparison.Ordinal));
        Console.WriteLine();
        Console.WriteLine("| ratio | unary, 1 caller | unary, 64 callers | bidi |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine($"| library / ceiling (goal >= 0.8) | {Ratio(lib.Unary1, ceiling.Unary1)} | {Ratio(lib.Unary64, ceiling.Unary64)} | {Ratio(lib.Bidi, ceiling.Bidi)} |");
        Console.WriteLine($"| library / grpc-js (goal >= 2) | {Ratio(lib.Unary1, grpcJs.Unary1)} | {Ratio(lib.Unary64, grpcJs.Unary64)} | {Ratio(lib.Bidi, grpcJs.Bidi)} |");

        Task<LoadResult> Unary(int callers, Func<Task> call) => LoadRunner.RunAsync(callers, warmup, duration, call);

        async Task<Row> RawClientRow(Uri address)
        {
            using var raw = new RawClient(address);
            return new Row("", await Unary(1, raw.UnaryAsync), await Unary(64, raw.UnaryAsync), await RawBidi(raw));
        }

        async Task<LoadResult> RawBidi(RawClient raw)
        {
            var (send, receive, complete, response) = await raw.OpenStreamAsync();
            using (response)
            {
                return await LoadRunner.RunStreamAsync(Window, warmup, duration, send, receive, complete);
            }
        }

        async Task<Row> LibraryClient(Uri address)
        {
            using var channel = LibraryEcho.Channel(address);
            var client = new Cluster.Testing.Echo.Echo.EchoClient(channel);
            var request = BenchPayload.Request;
            async Task Call() => await client.UnaryAsync(request);
            var unary1 = await Unary(1, Call);
            var unary64 = await Unary(64, Call);
            using var stream = client.Bidi();
            var bidi = await LoadRunner.RunStreamAsync(
                Window,
                warmup,
                duration,
                () => stream.RequestStream.WriteAsync(request),
                () => new ValueTask<bool>(stream.ResponseStream.MoveNext(CancellationToken.None)),
                () => stream.RequestStream.CompleteAsync());
            return new Row("", unary1, unary64, bidi);
        }

        async Task<Row> JsClient(int port) =>
            new("", await Js(port, "unary", 1), await Js(port, "unary", 64), await Js(port, "bidi", Window));

        async Task<LoadResult> Js(int port, string mode, int width)
        {
            var (exitCode, stdout, stderr) = await PeerProcess.RunNodeAsync(
                "bench-client.js",
                warmup + duration + TimeSpan.FromSeconds(60),
                $"127.0.0.1:{port}",
                mode,
                width.ToString(CultureInfo.InvariantCulture),
                ((int)warmup.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
                ((int)duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
            if (exitCode != 0)
            {
                throw new InvalidOperationException($"bench-client.js failed: {stderr}");
            }

            var json = JsonDocument.Parse(stdout).RootElement;
            double Micros(string name) => json.GetProperty(name).ValueKind == JsonValueKind.Number ? json.GetProperty(name).GetDouble() : double.NaN;
            return new LoadResult(json.GetProperty("operations").GetInt64(), TimeSpan.FromSeconds(json.GetProperty("seconds").GetDouble()), Micros("p50us"), Micros("p99us"));
        }
    }

    /// <summary>This benchmark binary again, with a serve-* command, as a server process of its own.</summary>
    private static Task<PeerProcess> StartSelfAsync(string command)
    {
        var self = Environment.ProcessPath!;
        var args = Path.GetFileNameWithoutExtension(self) == "dotnet"
            ? new[] { typeof(GrpcBenchmark).Assembly.Location, command }
            : new[] { command };
        return PeerProcess.StartServerAsync(self, args, Environment.CurrentDirectory);
    }

    private sealed record Row(string Name, LoadResult Unary1, LoadResult Unary64, LoadResult Bidi)
    {
        /// <summary>Each cell's median over the rounds, by throughput.</summary>
        public static Row Median(string name, List<Row> rounds)
        {
            static LoadResult Mid(IEnumerable<LoadResult> cells) => cells.OrderBy(c => c.PerSecond).ElementAt((cells.Count() - 1) / 2);
            return new Row(name, Mid(rounds.Select(r => r.Unary1)), Mid(rounds.Select(r => r.Unary64)), Mid(rounds.Select(r => r.Bidi)));
        }
    }

    private static string Cell(LoadResult r) => string.Create(
        CultureInfo.InvariantCulture,
        $"{r.PerSecond:N0}/s (p50 {LoadResult.FormatMicros(r.P50Micros)}, p99 {LoadResult.FormatMicros(r.P99Micros)})");

    private static string Ratio(LoadResult ours, LoadResult other) =>
        (ours.PerSecond / other.PerSecond).ToString("F2", CultureInfo.InvariantCulture) + "x";
}
