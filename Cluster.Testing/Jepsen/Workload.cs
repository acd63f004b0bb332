using System.Globalization;
using Cluster.Testing.Linearizability;

namespace Cluster.Testing.Jepsen;

/// <summary>
/// A set of keys in use at once, each retired after a budget of operations for a fresh one, so
/// every key's history stays short enough to check exhaustively.
/// </summary>
public sealed class KeySpace(string prefix, int atOnce, int budget)
{
    private readonly string[] _keys = [.. Enumerable.Range(0, atOnce).Select(i => $"{prefix}{i}")];
    private readonly int[] _uses = new int[atOnce];
    private readonly List<string> _all = [.. Enumerable.Range(0, atOnce).Select(i => $"{prefix}{i}")];
    private int _next = atOnce;

    public string Take(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        lock (_keys)
        {
            var slot = random.Next(_keys.Length);
            if (++_uses[slot] > budget)
            {
                _keys[slot] = $"{prefix}{_next++}";
                _uses[slot] = 1;
                _all.Add(_keys[slot]);
            }

            return _keys[slot];
        }
    }

    /// <summary>Every key handed out so far.</summary>
    public IReadOnlyList<string> All
    {
        get
        {
            lock (_keys)
            {
                return [.. _all];
            }
        }
    }
}

/// <summary>
/// The clients: each bound to one server, issuing one operation at a time until stopped —
/// default and <c>?consistent</c> reads, writes of unique values and compare-and-set (a
/// consistent read, then <c>?cas=</c> on its ModifyIndex) on registers, and <c>?acquire=</c>,
/// <c>?release=</c> and reads on locks with a session of its own — each recorded with its
/// outcome. A client whose operation has an unknown outcome continues as a new process, as in
/// Jepsen: the old one may still be in flight.
/// </summary>
public sealed class Workload(JepsenOptions options, JepsenCluster cluster, HistoryRecorder history, string runId)
{
    private long _nextValue;
    private int _nextProcess;

    public KeySpace Registers { get; } = new($"jepsen/{runId}/r", options.KeysAtOnce, options.OpsPerKey);

    public KeySpace Locks { get; } = new($"jepsen/{runId}/lock", 1, options.OpsPerKey);

    /// <summary>Register keys end in <c>/r</c> and a number; lock keys in <c>/lock</c> and a number.</summary>
    public static bool IsRegister(string key) => !key.Contains("/lock", StringComparison.Ordinal);

    /// <summary>Client errors worth showing (first few): refusals that mean the harness asked wrongly.</summary>
    public List<string> Errors { get; } = [];

    public Task RunAsync(CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, options.Clients).Select(c => Task.Run(() => ClientAsync(c, stop), CancellationToken.None)));

    /// <summary>After the run, with the cluster healed: one consistent read of every key from a server, so the last writes are seen.</summary>
    public async Task FinalReadsAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var process = Interlocked.Increment(ref _nextProcess) + options.Clients;
        foreach (var (keys, isLock) in new[] { (Registers.All, false), (Locks.All, true) })
        {
            foreach (var key in keys)
            {
                for (var server = 0; !deadline.IsCancellationRequested; server = (server + 1) % options.Servers)
                {
                    using var client = new KvClient(cluster.Servers[server].HttpAddress, options.OpTimeout);
                    var call = history.Now();
                    var read = await client.ReadAsync(key, "consistent", isLock);
                    if (read.Status == OpStatus.Ok)
                    {
                        history.Add(id => new Operation(id, process, key, OpKind.Read, read.Value, null, true, call, history.Now(), OpStatus.Ok, "final"));
                        break;
                    }
                }
            }
        }
    }

    private async Task ClientAsync(int client, CancellationToken stop)
    {
        var random = new Random(HashCode.Combine(options.Seed, client));
        var process = client;
        using var kv = new KvClient(cluster.Servers[client % options.Servers].HttpAddress, options.OpTimeout);
        string? session = null;
        var holds = false;
        while (!stop.IsCancellationRequested)
        {
            var last = OpStatus.Unknown;
            try
            {
                if (random.NextDouble() < options.LockShare)
                {
                    session ??= await kv.CreateSessionAsync($"jepsen-{client}");
                    if (session is null)
                    {
                        last = OpStatus.Failed;
                    }
                    else
                    {
                        (last, holds) = await LockOpAsync(kv, random, process, session, holds);
                    }
                }
                else
                {
                    last = await RegisterOpAsync(kv, random, process);
                }
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
            {
                // An answer the client could not read (transport failures are outcomes, not errors):
                // shown in the report, and the run goes on as a new process.
                Report($"client {client}: {e.GetType().Name}: {e.Message}");
            }

            if (last == OpStatus.Unknown)
            {
                process = Interlocked.Increment(ref _nextProcess) + options.Clients;
            }
            else if (last == OpStatus.Failed)
            {
                // The server is down or has no leader: a short back-off (a load generator's, not a test's wait).
                await Task.Delay(TimeSpan.FromMilliseconds(50 + random.Next(100)), CancellationToken.None);
            }
        }
    }

    private async Task<OpStatus> RegisterOpAsync(KvClient kv, Random random, int process)
    {
        var key = Registers.Take(random);
        var roll = random.NextDouble();
        if (roll < 0.30)
        {
            var mode = options.StaleReads && random.Next(2) == 0 ? "stale" : "";
            return (await ReadAsync(kv, key, mode, process, isLock: false)).Status;
        }

        if (roll < 0.45)
        {
            return (await ReadAsync(kv, key, "consistent", process, isLock: false)).Status;
        }

        if (roll < 0.75)
        {
            var value = NextValue();
            var call = history.Now();
            var put = await kv.PutAsync(key, "", value);
            Record(process, key, OpKind.Write, value, null, put, call, "");
            return put.Status;
        }

        // Compare-and-set: read the value and its ModifyIndex, then swap only if nothing wrote since.
        var seen = await ReadAsync(kv, key, "consistent", process, isLock: false);
        if (seen.Status != OpStatus.Ok)
        {
            return seen.Status;
        }

        var next = NextValue();
        var casCall = history.Now();
        var cas = await kv.PutAsync(key, $"cas={seen.ModifyIndex}", next);
        Record(process, key, OpKind.Cas, next, seen.Value, cas, casCall, "");
        return cas.Status;
    }

    private async Task<(OpStatus Status, bool Holds)> LockOpAsync(KvClient kv, Random random, int process, string session, bool holds)
    {
        var key = Locks.Take(random);
        var roll = random.NextDouble();
        if (roll < 0.3)
        {
            var read = await ReadAsync(kv, key, random.Next(2) == 0 ? "consistent" : "", process, isLock: true);
            return (read.Status, holds);
        }

        var kind = holds ? OpKind.Release : OpKind.Acquire;
        var call = history.Now();
        var outcome = await kv.PutAsync(key, $"{(holds ? "release" : "acquire")}={session}", $"client-{process}");
        Record(process, key, kind, session, null, outcome, call, "");
        var nowHolds = outcome.Status switch
        {
            OpStatus.Ok => kind == OpKind.Acquire && outcome.Succeeded,
            OpStatus.Failed => holds,
            _ => random.Next(2) == 0, // unknown: either guess is fine, the next acquire or release settles it
        };
        return (outcome.Status, nowHolds);
    }

    private async Task<KvOutcome> ReadAsync(KvClient kv, string key, string mode, int process, bool isLock)
    {
        var call = history.Now();
        var read = await kv.ReadAsync(key, mode, isLock);
        Record(process, key, OpKind.Read, read.Value, null, read, call, mode.Length == 0 ? "default" : mode);
        return read;
    }

    private void Record(int process, string key, OpKind kind, string? value, string? expected, KvOutcome outcome, long call, string detail)
    {
        var returned = history.Now();
        if (outcome.Status == OpStatus.Failed && outcome.Error.StartsWith('4'))
        {
            Report($"{kind} {key}: {outcome.Error}");
        }

        var result = kind == OpKind.Read ? outcome.Value : value;
        history.Add(id => new Operation(id, process, key, kind, result, expected, outcome.Succeeded, call, returned, outcome.Status, detail));
    }

    private void Report(string error)
    {
        lock (Errors)
        {
            if (Errors.Count < 10)
            {
                Errors.Add(error);
            }
        }
    }

    private string NextValue() => Interlocked.Increment(ref _nextValue).ToString(CultureInfo.InvariantCulture);
}
