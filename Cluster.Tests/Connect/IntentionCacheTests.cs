using System.Runtime.CompilerServices;
using System.Threading.Channels;
using System.Text.Json.Nodes;
using Cluster.Agent.Connect;
using Cluster.Agent.Http;
using Cluster.Contracts.State;
using Cluster.Primitives;
using Cluster.Server.Connect;
using Cluster.Server.Streaming;
using Cluster.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Tests.Connect;

/// <summary>The agent's intention cache over a scripted watch, on a manual clock.</summary>
public sealed class IntentionCacheTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly ManualTimeProvider _clock = new();
    private readonly ScriptedWatch _watch = new();
    private IntentionCache _cache = null!;

    public Task InitializeAsync()
    {
        _cache = new IntentionCache(_watch, _clock, NullLogger.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _cache.DisposeAsync();

    private static ConfigEntry Entry(string destination, ulong modifyIndex, params (string Source, string Action)[] sources)
    {
        var body = new JsonObject
        {
            ["Kind"] = "service-intentions",
            ["Name"] = destination,
            ["Sources"] = new JsonArray([.. sources.Select(s => (JsonNode)(s.Action == "l7"
                ? new JsonObject { ["Name"] = s.Source, ["Permissions"] = JsonNode.Parse("""[{"Action": "allow", "HTTP": {"PathPrefix": "/"}}]""") }
                : new JsonObject { ["Name"] = s.Source, ["Action"] = s.Action }))]),
        };
        var stored = ConfigEntries.Validate(body);
        stored.CreateIndex = 1;
        stored.ModifyIndex = modifyIndex;
        return stored;
    }

    private async Task PublishAsync(ulong index, params ConfigEntry[] entries)
    {
        var changed = _cache.Changed;
        await _watch.Feed.Writer.WriteAsync(new Watched<ConfigEntry>(index, entries));
        await changed.WaitAsync(Bound);
    }

    private bool Allowed(string source, string destination) =>
        _cache.Current!.Authorize(ServiceName.Default(source), ServiceName.Default(destination), IntentionDefault.AclsDisabled).Authorized;

    [Fact]
    public async Task Authorize_waits_for_the_first_snapshot_for_a_bounded_time_on_the_clock()
    {
        var ready = _cache.ReadyAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.False(ready.IsCompleted);
        _clock.Advance(TimeSpan.FromSeconds(5));
        var e = await Assert.ThrowsAsync<TimeoutException>(() => ready.WaitAsync(Bound));
        Assert.Contains("has not loaded the cluster's intentions yet", e.Message, StringComparison.Ordinal);

        var second = _cache.ReadyAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        await _watch.Feed.Writer.WriteAsync(new Watched<ConfigEntry>(3, [Entry("db", 3, ("web", "deny"))]));
        var index = await second.WaitAsync(Bound);
        Assert.Equal(3ul, index.Index);
        Assert.Equal(1, _watch.Calls);
    }

    [Fact]
    public async Task Each_state_of_the_entries_replaces_the_index_whole()
    {
        _cache.Start();
        await PublishAsync(5, Entry("db", 5, ("web", "deny")));
        Assert.False(Allowed("web", "db"));
        Assert.True(Allowed("api", "db"));

        await PublishAsync(9, Entry("db", 9, ("web", "allow"), ("*", "deny")), Entry("cache", 8, ("web", "l7")));
        Assert.Equal((9ul, 3), (_cache.Current!.Index, _cache.Current.Count));
        Assert.True(Allowed("web", "db"));
        Assert.False(Allowed("api", "db"));
        Assert.False(Allowed("web", "cache")); // CVE-2021-36213: L7 is a deny for a connection

        await PublishAsync(12);
        Assert.True(Allowed("api", "db"));
        Assert.Equal(0, _cache.Current!.Count);
    }

    [Fact]
    public async Task An_entry_that_cannot_be_read_refuses_its_destination_until_it_can()
    {
        _cache.Start();
        var damaged = new ConfigEntry { Kind = ServiceIntentions.Kind, Name = "db", ModifyIndex = 4, Json = """{"Kind": "service-intentions", "Name": "db", "Sources": [{"Name": "web", "Action": "allow", "FutureField": 1}]}""" };
        await PublishAsync(4, damaged, Entry("cache", 3, ("web", "allow")));
        Assert.False(Allowed("web", "db"));
        Assert.True(Allowed("web", "cache"));

        await PublishAsync(6, Entry("db", 6, ("web", "allow")), Entry("cache", 3, ("web", "allow")));
        Assert.True(Allowed("web", "db"));
    }

    [Fact]
    public async Task A_failed_watch_keeps_the_last_index_and_is_reopened_after_a_backoff()
    {
        _cache.Start();
        await PublishAsync(5, Entry("db", 5, ("web", "deny")));
        var retrying = _cache.Retrying;
        _watch.Break(new InvalidOperationException("server gone"));
        await retrying.WaitAsync(Bound);
        Assert.False(Allowed("web", "db"));
        Assert.Equal(1, _watch.Calls);

        var resubscribed = _watch.Subscribed;
        _clock.Advance(TimeSpan.FromMilliseconds(200));
        await resubscribed.WaitAsync(Bound);
        Assert.Equal(2, _watch.Calls);
        await PublishAsync(7, Entry("db", 7, ("web", "allow")));
        Assert.True(Allowed("web", "db"));
    }

    /// <summary>A watch fed by the test; <see cref="Break"/> ends the current subscription with an error.</summary>
    private sealed class ScriptedWatch : IConfigWatch
    {
        private readonly ChangeSignal _subscribed = new();
        private TaskCompletionSource _broken = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Channel<Watched<ConfigEntry>> Feed { get; } = Channel.CreateUnbounded<Watched<ConfigEntry>>();

        public int Calls;

        public Task Subscribed => _subscribed.Next;

        public void Break(Exception e) => _broken.TrySetException(e);

        public async IAsyncEnumerable<Watched<ConfigEntry>> WatchConfigAsync(string kind, string? name = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            Assert.Equal(ServiceIntentions.Kind, kind);
            Assert.Null(name);
            Interlocked.Increment(ref Calls);
            var broken = _broken.Task;
            _subscribed.Fire();
            while (true)
            {
                var next = Feed.Reader.WaitToReadAsync(cancellationToken).AsTask();
                if (await Task.WhenAny(next, broken) == broken)
                {
                    _broken = new(TaskCreationOptions.RunContinuationsAsynchronously);
                    await broken;
                }

                if (!await next)
                {
                    yield break;
                }

                while (Feed.Reader.TryRead(out var watched))
                {
                    yield return watched;
                }
            }
        }
    }
}
