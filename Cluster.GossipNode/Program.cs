using System.Globalization;
using System.Net;
using Cluster.Gossip.Pool;
using Cluster.Gossip.Security;

// Arguments: --name N --keyring-file PATH [--key BASE64] [--probe-ms 500] [--dc dc1]
var arguments = args.Select((value, i) => (value, i)).Where(a => a.value.StartsWith("--", StringComparison.Ordinal))
    .ToDictionary(a => a.value[2..], a => a.i + 1 < args.Length && !args[a.i + 1].StartsWith("--", StringComparison.Ordinal) ? args[a.i + 1] : "");
var probe = TimeSpan.FromMilliseconds(arguments.TryGetValue("probe-ms", out var ms) ? int.Parse(ms, CultureInfo.InvariantCulture) : 500);
var output = new Lock();
void Say(string line)
{
    lock (output)
    {
        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }
}

await using var pool = GossipPool.Start(new PoolOptions
{
    Kind = PoolKind.Lan,
    NodeName = arguments["name"],
    Datacenter = arguments.GetValueOrDefault("dc", "dc1"),
    Bind = new IPEndPoint(IPAddress.Loopback, 0),
    Keyring = arguments.TryGetValue("key", out var key) ? new Keyring([Keyring.ParseKey(key)]) : null,
    KeyringFile = arguments.GetValueOrDefault("keyring-file"),
    Tune = o => o with
    {
        ProbeInterval = probe,
        ProbeTimeout = probe / 2,
        GossipInterval = probe / 5,
        PushPullInterval = probe * 20,
    },
});
Say($"listening {pool.Address.Split(':')[1]}");

using var stopping = new CancellationTokenSource();
var events = Task.Run(async () =>
{
    while (!stopping.IsCancellationRequested)
    {
        var changed = pool.Changed;
        foreach (var change in pool.TakeEvents())
        {
            Say($"event {change.Kind.ToString().ToLowerInvariant()} {change.Member.Name}");
        }

        await changed.WaitAsync(stopping.Token);
    }
});

while (await Console.In.ReadLineAsync() is { } line)
{
    var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    try
    {
        switch (words)
        {
            case ["join", .. var addresses]:
                Say($"joined {await pool.JoinAsync(addresses)}");
                break;
            case ["members"]:
                Say("members " + string.Join(',', pool.Members.OrderBy(m => m.Name, StringComparer.Ordinal).Select(m => $"{m.Name}={m.Status}")));
                break;
            case ["keyring", var op, .. var rest]:
                var response = op switch
                {
                    "list" => await pool.ListKeysAsync(),
                    "install" => await pool.InstallKeyAsync(rest[0]),
                    "use" => await pool.UseKeyAsync(rest[0]),
                    "remove" => await pool.RemoveKeyAsync(rest[0]),
                    _ => throw new ArgumentException($"unknown keyring operation {op}"),
                };
                Say($"keyring {(response.Succeeded ? "ok" : "failed")} nodes={response.NumNodes} "
                    + $"primary={string.Join(',', response.PrimaryKeys.Select(k => $"{k.Key}:{k.Value}"))} "
                    + $"keys={string.Join(',', response.Keys.Select(k => $"{k.Key}:{k.Value}"))} "
                    + $"missing={string.Join(',', response.Missing)} errors={string.Join(';', response.Errors.Select(e => $"{e.Key}:{e.Value}"))}");
                break;
            case ["leave"]:
                await pool.LeaveAsync();
                Say("left");
                return 0;
            default:
                Say($"error unknown command: {line}");
                break;
        }
    }
    catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or IndexOutOfRangeException)
    {
        Say($"error {exception.Message}");
    }
}

await stopping.CancelAsync();
return 0;
