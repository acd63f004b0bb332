using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Cluster.Agent.Connect;
using Cluster.Server.Connect;

namespace Cluster.Benchmarks;

/// <summary>
/// POST /v1/agent/connect/authorize against N intentions on one `cluster agent -dev`: the
/// intentions written as service-intentions config entries (100 sources each, one in ten a
/// deny), then the same mix of questions asked by our load generator (one HttpClient, one
/// connection per caller) and by wrk (a Lua script cycling the bodies), with GET
/// /v1/status/leader by wrk as the floor of the agent's HTTP API; and in this process the
/// decision alone (<see cref="IntentionIndex"/>, and the handler's work without HTTP).
/// </summary>
internal static class AuthorizeBenchmark
{
    private const int SourcesPerEntry = 100;
    private const int Questions = 1000;

    public sealed record Result(
        int Intentions,
        TimeSpan Load,
        LoadResult Ours,
        int Connections,
        WrkResult? Wrk,
        WrkResult? WrkFloor,
        double OursAgentCores,
        double BuildMs,
        IReadOnlyList<(string Name, double PerSecond)> InProcess);

    public sealed record WrkResult(double PerSecond, string P50, string P99, string Errors, double AgentCores);

    public static async Task<Result> RunAsync(int intentions, TimeSpan duration, int connections, bool withWrk)
    {
        var entries = (intentions + SourcesPerEntry - 1) / SourcesPerEntry;
        await using var agent = await DevAgent.StartAsync("ca-authorize");
        var trustDomain = await agent.TrustDomainAsync();

        // The intentions: entry d allows sources src-0..99 to dst-d, but denies one in ten.
        Console.Error.WriteLine($"authorize: writing {intentions} intentions in {entries} service-intentions entries");
        var loadClock = System.Diagnostics.Stopwatch.StartNew();
        var rules = new List<IntentionRule>();
        for (var d = 0; d < entries; d++)
        {
            var sources = new JsonArray();
            for (var s = 0; s < SourcesPerEntry && rules.Count < intentions; s++)
            {
                var deny = (s + d) % 10 == 0;
                sources.Add(new JsonObject { ["Name"] = Src(s), ["Action"] = deny ? "deny" : "allow" });
                rules.Add(new IntentionRule(new ServiceName("default", Src(s)), new ServiceName("default", Dst(d)), deny ? IntentionAction.Deny : IntentionAction.Allow));
            }

            var entry = new JsonObject { ["Kind"] = "service-intentions", ["Name"] = Dst(d), ["Sources"] = sources };
            using var put = await agent.Http.PutAsync("/v1/config", new StringContent(entry.ToJsonString(), Encoding.UTF8, "application/json"));
            if (!put.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"PUT /v1/config: {put.StatusCode} {await put.Content.ReadAsStringAsync()}");
            }
        }

        // The questions, drawn from the intentions (and so one in ten denied); all must be answered as written.
        var random = new Random(7);
        var questions = Enumerable.Range(0, Questions).Select(_ => rules[random.Next(rules.Count)]).ToArray();
        string Body(IntentionRule r) => new JsonObject
        {
            ["Target"] = r.Destination.Name,
            ["ClientCertURI"] = new SpiffeId(trustDomain, "default", "dc1", r.Source.Name).ToString(),
            ["ClientCertSerial"] = "0a:0b:0c",
        }.ToJsonString();
        var bodies = questions.Select(q => Encoding.UTF8.GetBytes(Body(q))).ToArray();

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan, UseProxy = false })
        {
            BaseAddress = agent.Process.HttpAddress,
        };
        var last = rules[^1];
        while (await AuthorizeAsync(http, Encoding.UTF8.GetBytes(Body(last))) != (last.Action == IntentionAction.Allow))
        {
            await Task.Delay(100); // the agent's intention cache is still loading
        }

        var load = loadClock.Elapsed;
        for (var i = 0; i < Questions; i++)
        {
            if (await AuthorizeAsync(http, bodies[i]) != (questions[i].Action == IntentionAction.Allow))
            {
                throw new InvalidOperationException($"authorize answered wrongly for {Body(questions[i])}");
            }
        }

        Console.Error.WriteLine($"authorize: our generator, {connections} connections");
        var next = 0;
        async Task Ask() => await AuthorizeAsync(http, bodies[(int)((uint)Interlocked.Increment(ref next) % Questions)]);
        await LoadRunner.RunAsync(connections, TimeSpan.Zero, TimeSpan.FromSeconds(2), Ask);
        var window = new DevAgent.CpuWindow(agent);
        var ours = await LoadRunner.RunAsync(connections, TimeSpan.Zero, duration, Ask);
        var (wall, _, agentCpu) = window.Stop();

        WrkResult? wrk = null;
        WrkResult? floor = null;
        if (withWrk)
        {
            var script = Path.Combine(Path.GetTempPath(), $"authorize-{Guid.NewGuid():N}.lua");
            await File.WriteAllTextAsync(script, WrkScript(questions.Select(Body)));
            try
            {
                Console.Error.WriteLine($"authorize: wrk, {connections} connections");
                wrk = await WrkAsync(agent, ["-s", script, $"{agent.Process.HttpAddress}v1/agent/connect/authorize"], connections, duration);
                Console.Error.WriteLine("authorize: wrk, GET /v1/status/leader (the HTTP API's floor)");
                floor = await WrkAsync(agent, [$"{agent.Process.HttpAddress}v1/status/leader"], connections, duration);
            }
            finally
            {
                File.Delete(script);
            }
        }

        var (buildMs, inProcess) = InProcess(rules, questions, trustDomain, duration, Body);
        return new Result(intentions, load, ours, connections, wrk, floor, agentCpu.TotalSeconds / wall.TotalSeconds, buildMs, inProcess);
    }

    private static string Src(int s) => $"src-{s:D3}";

    private static string Dst(int d) => $"dst-{d:D4}";

    private static async Task<bool> AuthorizeAsync(HttpClient http, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        using var response = await http.PostAsync("/v1/agent/connect/authorize", content);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"authorize: {response.StatusCode} {text}");
        }

        return text.Contains("\"Authorized\":true", StringComparison.Ordinal);
    }

    /// <summary>The decision alone, one thread: the index lookup; the same behind the request's identity check; the handler's work without HTTP (JSON in and out).</summary>
    private static (double BuildMs, List<(string, double)> Rates) InProcess(List<IntentionRule> rules, IntentionRule[] questions, string trustDomain, TimeSpan duration, Func<IntentionRule, string> body)
    {
        Console.Error.WriteLine("authorize: in-process decision");
        var built = System.Diagnostics.Stopwatch.StartNew();
        var index = IntentionIndex.Build(rules, 1);
        var buildMs = built.Elapsed.TotalMilliseconds;
        var fallback = IntentionDefault.AclsDisabled;
        var requests = questions.Select(q => new AuthorizeRequest(q.Destination.Name, "", new SpiffeId(trustDomain, "default", "dc1", q.Source.Name).ToString(), "0a:0b:0c")).ToArray();
        var texts = questions.Select(body).ToArray();
        return (buildMs,
        [
            ("IntentionIndex.Authorize (source, destination)", CaSigning.Threads(1, duration, i => index.Authorize(questions[i % Questions].Source, questions[i % Questions].Destination, fallback)).PerSecond),
            ("ConnectAuthorizer.Authorize (the request's SPIFFE ID parsed and checked, then the index)", CaSigning.Threads(1, duration, i => ConnectAuthorizer.Authorize(index, requests[i % Questions], trustDomain, fallback)).PerSecond),
            ("the handler without HTTP: JSON body parsed, authorized, JSON answer written", CaSigning.Threads(1, duration, i =>
            {
                var json = JsonNode.Parse(texts[i % Questions])!.AsObject();
                var request = new AuthorizeRequest((string)json["Target"]!, (string?)json["Namespace"] ?? "", (string)json["ClientCertURI"]!, (string)json["ClientCertSerial"]!);
                var decision = ConnectAuthorizer.Authorize(index, request, trustDomain, fallback);
                _ = new JsonObject { ["Authorized"] = decision.Authorized, ["Reason"] = decision.Reason }.ToJsonString();
            }).PerSecond),
        ]);
    }

    /// <summary>A wrk script that POSTs the bodies in turn (each request formatted once, in init).</summary>
    private static string WrkScript(IEnumerable<string> bodies)
    {
        var lua = new StringBuilder();
        lua.AppendLine("local bodies = {");
        foreach (var b in bodies)
        {
            lua.Append("  [[").Append(b).AppendLine("]],");
        }

        lua.AppendLine("}");
        lua.AppendLine("""
            local requests = {}
            local n = 0
            init = function(args)
              for i, b in ipairs(bodies) do
                requests[i] = wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, b)
              end
            end
            request = function()
              n = n + 1
              return requests[(n % #requests) + 1]
            end
            """);
        return lua.ToString();
    }

    private static async Task<WrkResult> WrkAsync(DevAgent agent, string[] target, int connections, TimeSpan duration)
    {
        string[] common = ["-t2", $"-c{connections}", "--latency"];
        var timeout = duration + TimeSpan.FromSeconds(60);
        await Testing.PeerProcess.RunAsync("wrk", [.. common, "-d2s", .. target], timeout); // warm
        var window = new DevAgent.CpuWindow(agent);
        var (exit, stdout, stderr) = await Testing.PeerProcess.RunAsync("wrk", [.. common, $"-d{(int)duration.TotalSeconds}s", .. target], timeout);
        var (wall, _, agentCpu) = window.Stop();
        if (exit != 0)
        {
            throw new InvalidOperationException($"wrk failed: {stderr}{stdout}");
        }

        string Field(string prefix, int index) =>
            stdout.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[index] ?? "";
        var errors = string.Join("; ", stdout.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("Non-2xx", StringComparison.Ordinal) || l.StartsWith("Socket errors", StringComparison.Ordinal)));
        return new WrkResult(double.Parse(Field("Requests/sec:", 1), CultureInfo.InvariantCulture), Field("50%", 1), Field("99%", 1), errors.Length == 0 ? "none" : errors, agentCpu.TotalSeconds / wall.TotalSeconds);
    }

    public static void Print(Result r)
    {
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"## 3. POST /v1/agent/connect/authorize against {r.Intentions:N0} intentions on one agent ({Environment.ProcessorCount} cores shared by the agent and the load generator; {r.Connections} connections)"));
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Intentions:N0} intentions written and loaded into the agent's cache in {r.Load.TotalSeconds:F1} s"));
        Console.WriteLine();
        Console.WriteLine("| generator | requests/s | p50 | p99 | errors | agent's CPU (cores) | requests per agent CPU-second | / goal 100,000/s |");
        Console.WriteLine("|---|---:|---:|---:|---|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| ours (HttpClient, one connection per caller) | {r.Ours.PerSecond:N0} | {LoadResult.FormatMicros(r.Ours.P50Micros)} | {LoadResult.FormatMicros(r.Ours.P99Micros)} | none (every answer checked before) | {r.OursAgentCores:F2} | {r.Ours.PerSecond / r.OursAgentCores:N0} | {r.Ours.PerSecond / 100_000:F2} |"));
        if (r.Wrk is { } w)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| wrk -t2, Lua cycling the same bodies | {w.PerSecond:N0} | {w.P50} | {w.P99} | {w.Errors} | {w.AgentCores:F2} | {w.PerSecond / w.AgentCores:N0} | {w.PerSecond / 100_000:F2} |"));
        }

        if (r.WrkFloor is { } f)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| wrk -t2, GET /v1/status/leader (the agent's HTTP floor) | {f.PerSecond:N0} | {f.P50} | {f.P99} | {f.Errors} | {f.AgentCores:F2} | {f.PerSecond / f.AgentCores:N0} | - |"));
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"In this process: IntentionIndex.Build of {r.Intentions:N0} rules (once per change of the entries) took {r.BuildMs:F1} ms."));
        Console.WriteLine();
        Console.WriteLine("| in this process, 1 thread | per second |");
        Console.WriteLine("|---|---:|");
        foreach (var (name, perSecond) in r.InProcess)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {perSecond:N0} |"));
        }
    }
}
