using Cluster.Contracts.State;
using Cluster.Primitives;
using Cluster.Server.Connect;
using Cluster.Server.Nodes;
using Cluster.Server.Streaming;
using Microsoft.Extensions.Logging;

namespace Cluster.Agent.Connect;

/// <summary>
/// This agent's copy of the cluster's intentions, for /v1/agent/connect/authorize: one watch of
/// the service-intentions entries (a server's own store, or a client's subscription that resumes on
/// another server) folded into an immutable <see cref="IntentionIndex"/>, swapped in whole at each
/// change, so readers never lock and never see half an update. Entries are re-parsed only when
/// their ModifyIndex moves. Before the first snapshot there is no index: callers wait for it
/// (<see cref="ReadyAsync"/>, bounded). If the watch fails the last index stays in use and the
/// watch is reopened after a backoff.
/// </summary>
public sealed partial class IntentionCache : IAsyncDisposable
{
    private static readonly Backoff Retry = new(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10));

    private readonly IConfigWatch _watch;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<IntentionIndex> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ChangeSignal _changed = new();
    private readonly ChangeSignal _retrying = new();
    private Dictionary<string, Parsed> _parsed = new(StringComparer.Ordinal);
    private IntentionIndex? _current;
    private Task? _run;
    private int _started;

    public IntentionCache(IConfigWatch watch, TimeProvider time, ILogger logger)
    {
        _watch = watch;
        _time = time;
        _logger = logger;
    }

    /// <summary>The intentions as last seen; null before the first snapshot.</summary>
    public IntentionIndex? Current => Volatile.Read(ref _current);

    /// <summary>Completes at the next change of <see cref="Current"/>.</summary>
    public Task Changed => _changed.Next;

    /// <summary>Completes when the watch has failed and its retry is scheduled on the cache's clock (for tests that move that clock).</summary>
    internal Task Retrying => _retrying.Next;

    /// <summary>Starts the watch (once; later calls do nothing).</summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _run = Task.Run(RunAsync);
        }
    }

    /// <summary>The current index, starting the watch if needed and waiting at most <paramref name="atMost"/> (on the cache's clock) for the first snapshot.</summary>
    public async Task<IntentionIndex> ReadyAsync(TimeSpan atMost, CancellationToken cancellationToken)
    {
        if (Current is { } current)
        {
            return current;
        }

        Start();
        try
        {
            return await _ready.Task.WaitAsync(atMost, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"this agent has not loaded the cluster's intentions yet (waited {atMost.TotalSeconds:0.#} s); try again");
        }
    }

    private async Task RunAsync()
    {
        var failures = 0;
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await foreach (var watched in _watch.WatchConfigAsync(ServiceIntentions.Kind, null, token).ConfigureAwait(false))
                {
                    Apply(watched);
                    failures = 0;
                }
            }
            catch (Exception) when (token.IsCancellationRequested)
            {
                // Stopping: however the watch ended (a cancelled call may surface as an RPC error), it is not a failure.
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Whatever broke the watch (no server, a restore, a bug), the last index keeps serving.
                LogWatchFailed(_logger, e);
            }

            failures++;
            try
            {
                var retry = Task.Delay(Retry.After(failures), _time, token);
                _retrying.Fire();
                await retry.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Folds one whole state of the entries into a new index (internal for tests that drive it directly).</summary>
    internal void Apply(Watched<ConfigEntry> watched)
    {
        var parsed = new Dictionary<string, Parsed>(StringComparer.Ordinal);
        foreach (var entry in watched.Entries)
        {
            if (!_parsed.TryGetValue(entry.Name, out var known) || known.ModifyIndex != entry.ModifyIndex)
            {
                known = Parse(entry);
            }

            parsed[entry.Name] = known;
        }

        _parsed = parsed;
        var rules = parsed.Values.Where(p => p.Entry is not null).SelectMany(p => p.Entry!.Sources
            .Where(s => s.Peer.Length == 0)
            .Select(s => new IntentionRule(s.Name, p.Entry.Destination, s.RuleAction)));
        var index = IntentionIndex.Build(rules, watched.Index, parsed.Where(p => p.Value.Entry is null).Select(p => p.Key));
        Volatile.Write(ref _current, index);
        _ready.TrySetResult(index);
        _changed.Fire();
    }

    private Parsed Parse(ConfigEntry entry)
    {
        try
        {
            return new Parsed(entry.ModifyIndex, IntentionSet.Read(entry));
        }
        catch (InvalidRequestException e)
        {
            // Written by a newer agent, or damaged: its destination is refused until it reads again.
            LogUnreadable(_logger, entry.Name, e.Message);
            return new Parsed(entry.ModifyIndex, null);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_run is not null)
        {
            await _run.ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private sealed record Parsed(ulong ModifyIndex, ServiceIntentions? Entry);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the intentions watch failed; serving the last intentions read and retrying")]
    private static partial void LogWatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "the service-intentions entry \"{Name}\" cannot be read, connections to it are refused: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string name, string reason);
}
