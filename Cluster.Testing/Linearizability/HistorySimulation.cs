namespace Cluster.Testing.Linearizability;

/// <summary>How simulated clients behave.</summary>
public sealed record HistorySimulationOptions
{
    public int Clients { get; init; } = 6;

    public int Operations { get; init; } = 1000;

    public IReadOnlyList<string> Keys { get; init; } = ["k"];

    /// <summary>Operations whose client never learns the outcome; half of them take effect.</summary>
    public double UnknownRate { get; init; } = 0.03;

    public double FailedRate { get; init; } = 0.02;

    /// <summary>Operations that hang (a paused or partitioned server) for 0.3–4 s.</summary>
    public double SlowRate { get; init; } = 0.01;

    /// <summary>A client's think time between operations is uniform in [0, this].</summary>
    public double MaxGapMilliseconds { get; init; } = 60;
}

/// <summary>
/// Seeded clients against a true linearizable register or lock. Each operation gets a random interval
/// and a random linearization point inside it; the results are then computed by applying the
/// operations in linearization-point order, so the history is linearizable by construction. An
/// operation of unknown outcome takes effect at a random later time, or never; its process is
/// replaced by a new one, as in Jepsen.
/// </summary>
public static class HistorySimulation
{
    private const long Millisecond = 1_000_000;

    public static History Register(int seed, HistorySimulationOptions options)
    {
        var random = new Random(seed);
        var written = options.Keys.ToDictionary(k => k, _ => new List<string>());
        var drafts = Drafts(random, options, draft =>
        {
            var roll = random.NextDouble();
            var values = written[draft.Key];
            draft.Value = draft.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (roll < 0.5)
            {
                draft.Kind = OpKind.Read;
            }
            else if (roll < 0.8)
            {
                draft.Kind = OpKind.Write;
                values.Add(draft.Value);
            }
            else
            {
                draft.Kind = OpKind.Cas;
                var pick = random.NextDouble();
                draft.Expected = values.Count == 0 || pick < 0.1 ? null
                    : pick < 0.8 ? values[Math.Max(0, values.Count - 1 - random.Next(3))]
                    : values[random.Next(values.Count)];
                values.Add(draft.Value);
            }
        });

        var state = options.Keys.ToDictionary(k => k, _ => (string?)null);
        foreach (var draft in InEffectOrder(drafts))
        {
            switch (draft.Kind)
            {
                case OpKind.Read:
                    draft.Value = state[draft.Key];
                    break;
                case OpKind.Write:
                    state[draft.Key] = draft.Value;
                    break;
                default:
                    draft.Succeeded = state[draft.Key] == draft.Expected;
                    if (draft.Succeeded)
                    {
                        state[draft.Key] = draft.Value;
                    }

                    break;
            }
        }

        return Finish(drafts);
    }

    /// <summary>
    /// A lock per key. A process's session is its own; a process that lost track of an operation is
    /// replaced, and its successor first releases the old session (as a harness would destroy it).
    /// Unknown operations here take effect before that cleanup or never, or the lock would stay held.
    /// </summary>
    public static History Lock(int seed, HistorySimulationOptions options)
    {
        var random = new Random(seed);
        var drafts = Drafts(random, options, draft =>
        {
            var roll = random.NextDouble();
            draft.Kind = roll < 0.35 ? OpKind.Acquire : roll < 0.65 ? OpKind.Release : OpKind.Read;
            draft.Value = Session(draft.Process);
        }, lockCleanup: true);

        var holders = options.Keys.ToDictionary(k => k, _ => (string?)null);
        foreach (var draft in InEffectOrder(drafts))
        {
            var holder = holders[draft.Key];
            switch (draft.Kind)
            {
                case OpKind.Read:
                    draft.Value = holder;
                    break;
                case OpKind.Acquire:
                    draft.Succeeded = holder is null || holder == draft.Value;
                    holders[draft.Key] = draft.Succeeded ? draft.Value : holder;
                    break;
                default:
                    draft.Succeeded = holder == draft.Value;
                    holders[draft.Key] = draft.Succeeded ? null : holder;
                    break;
            }
        }

        return Finish(drafts);
    }

    public static string Session(int process) => $"s{process}";

    /// <summary>
    /// A register's read, made to return a value overwritten before it was called: the value's only
    /// writer returned before another write began, which returned before the read was called.
    /// </summary>
    public static (History History, Operation Read) StaleRegisterRead(History history, int seed)
    {
        var random = new Random(seed);
        var writes = history.Where(o => o.Status == OpStatus.Ok && (o.Kind == OpKind.Write || (o.Kind == OpKind.Cas && o.Succeeded))).ToList();
        foreach (var read in Middle(history, random))
        {
            var sameKey = writes.Where(w => w.Key == read.Key && w.Return < read.Call).ToList();
            if (sameKey.Count == 0)
            {
                continue;
            }

            var later = sameKey.MaxBy(w => w.Call)!;
            var stale = sameKey.Where(w => w.Return < later.Call && w.Value != read.Value && w.Value != later.Value).ToList();
            if (stale.Count > 0)
            {
                return Replace(history, read with { Value = stale[random.Next(stale.Count)].Value });
            }
        }

        throw new InvalidOperationException("no read can be made stale");
    }

    /// <summary>
    /// A lock read, made to return a session that had released the lock for good before the read was
    /// called: every acquire by it completed before that release began.
    /// </summary>
    public static (History History, Operation Read) StaleLockRead(History history, int seed)
    {
        var random = new Random(seed);
        foreach (var read in Middle(history, random))
        {
            var released = history
                .Where(o => o.Key == read.Key && o.Kind == OpKind.Release && o.Status == OpStatus.Ok && o.Succeeded && o.Return < read.Call && o.Value != read.Value)
                .Where(release => history.All(a =>
                    a.Key != read.Key || a.Kind != OpKind.Acquire || a.Value != release.Value || a.Status == OpStatus.Failed
                    || (a.Status == OpStatus.Ok && a.Return < release.Call)))
                .ToList();
            if (released.Count > 0)
            {
                return Replace(history, read with { Value = released[random.Next(released.Count)].Value });
            }
        }

        throw new InvalidOperationException("no read can be made stale");
    }

    /// <summary>Completed reads from the middle of the history, in a seeded random order.</summary>
    private static IEnumerable<Operation> Middle(History history, Random random)
    {
        var reads = history.Where(o => o.Kind == OpKind.Read && o.Status == OpStatus.Ok).ToList();
        var middle = reads.Skip(reads.Count / 3).Take(Math.Max(1, reads.Count / 3)).ToList();
        return middle.OrderBy(_ => random.Next()).Concat(reads);
    }

    private static (History, Operation) Replace(History history, Operation read) =>
        (new History(history.Select(o => o.Id == read.Id ? read : o)), read);

    /// <summary>
    /// The operations' times, kinds and fates; <paramref name="choose"/> fills in what each one asks.
    /// With <paramref name="lockCleanup"/>, a replaced process's session is first released on every
    /// key (those releases always complete), and unknown outcomes take effect before the cleanup.
    /// </summary>
    private static List<Draft> Drafts(Random random, HistorySimulationOptions options, Action<Draft> choose, bool lockCleanup = false)
    {
        var clocks = new long[options.Clients];
        var processes = Enumerable.Range(0, options.Clients).ToArray();
        var cleanups = Enumerable.Range(0, options.Clients).Select(_ => new Queue<(string Session, string Key)>()).ToArray();
        var nextProcess = options.Clients;
        var drafts = new List<Draft>();
        for (var id = 0; id < options.Operations; id++)
        {
            var client = Array.IndexOf(clocks, clocks.Min());
            var call = clocks[client] + (long)(random.NextDouble() * options.MaxGapMilliseconds * Millisecond);
            var duration = random.NextDouble() < options.SlowRate
                ? (long)((300 + (random.NextDouble() * 3700)) * Millisecond)
                : (long)((0.2 + (random.NextDouble() * 19.8)) * Millisecond);
            var draft = new Draft { Id = id, Process = processes[client], Call = call, Return = call + duration };
            clocks[client] = draft.Return + 1;
            drafts.Add(draft);
            if (cleanups[client].TryDequeue(out var cleanup))
            {
                (draft.Kind, draft.Value, draft.Key) = (OpKind.Release, cleanup.Session, cleanup.Key);
                draft.EffectAt = call + (long)(random.NextDouble() * duration);
                continue;
            }

            draft.Key = options.Keys[random.Next(options.Keys.Count)];
            choose(draft);
            var roll = random.NextDouble();
            if (roll < options.UnknownRate)
            {
                draft.Status = OpStatus.Unknown;
                if (random.Next(2) == 0)
                {
                    var spread = lockCleanup ? duration : 5000 * Millisecond;
                    draft.EffectAt = call + (long)(random.NextDouble() * spread);
                }

                if (lockCleanup)
                {
                    foreach (var key in options.Keys)
                    {
                        cleanups[client].Enqueue((Session(processes[client]), key));
                    }
                }

                processes[client] = nextProcess++;
            }
            else if (roll < options.UnknownRate + options.FailedRate)
            {
                draft.Status = OpStatus.Failed;
            }
            else
            {
                draft.EffectAt = call + (long)(random.NextDouble() * duration);
            }
        }

        return drafts;
    }

    private static IEnumerable<Draft> InEffectOrder(List<Draft> drafts) =>
        drafts.Where(d => d.EffectAt is not null).OrderBy(d => d.EffectAt).ThenBy(d => d.Id);

    private static History Finish(List<Draft> drafts) => new(drafts.Select(d => new Operation(
        d.Id,
        d.Process,
        d.Key,
        d.Kind,
        d.Kind == OpKind.Read && d.Status != OpStatus.Ok ? null : d.Value,
        d.Expected,
        d.Kind is OpKind.Read or OpKind.Write || d.Succeeded,
        d.Call,
        d.Status == OpStatus.Unknown ? 0 : d.Return,
        d.Status)));

    private sealed class Draft
    {
        public int Id { get; init; }

        public int Process { get; init; }

        public string Key { get; set; } = "";

        public OpKind Kind { get; set; }

        public string? Value { get; set; }

        public string? Expected { get; set; }

        public bool Succeeded { get; set; }

        public long Call { get; init; }

        public long Return { get; init; }

        public OpStatus Status { get; set; }

        public long? EffectAt { get; set; }
    }
}
