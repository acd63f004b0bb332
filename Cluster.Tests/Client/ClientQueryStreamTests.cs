using Cluster.Agent.Client;
using Cluster.Contracts.State;
using Cluster.Server.Nodes;
using Cluster.Server.Query;
using Cluster.Server.Streaming;
using Cluster.Testing.Agent;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Tests.Client;

/// <summary>
/// A client node's typed reads and its Subscribe stream over gRPC, against three `cluster agent
/// -server` processes: blocking queries that wake on a write, a subscription that carries on
/// through a leadership transfer and through the SIGKILL of the very server it is attached to,
/// resuming from its index there rather than starting over.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ClientQueryStreamTests : IAsyncLifetime
{
    /// <summary>A safety net for awaits that are due; never a synchronisation point.</summary>
    private static readonly TimeSpan Due = TimeSpan.FromSeconds(60);

    private AgentCluster _cluster = null!;
    private ClientNode _client = null!;
    private string _clientDir = "";

    public async Task InitializeAsync()
    {
        _cluster = await AgentCluster.StartAsync(3);
        _clientDir = Path.Combine(Path.GetTempPath(), $"client-node-{Guid.NewGuid():N}");
        _client = await ClientNode.StartAsync(
            new ServerOptions
            {
                NodeName = "stream-client",
                DataDirectory = _clientDir,
                SerfLanPort = AgentProcess.FreePorts(1)[0],
                RetryJoin = [.. _cluster.Servers.Select(s => s.LanAddress)],
                RetryInterval = TimeSpan.FromSeconds(1),
            },
            NullLoggerFactory.Instance,
            new Random(18));
        using var cts = new CancellationTokenSource(Due);
        while (_client.Pool.Servers.Count < 3)
        {
            await _client.Lan.Changed.WaitAsync(cts.Token);
        }
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _cluster.DisposeAsync();
        Directory.Delete(_clientDir, recursive: true);
    }

    [Fact]
    public async Task Blocking_reads_over_grpc_answer_at_once_then_hold_until_a_write_even_when_their_server_dies()
    {
        var (written, _) = await _client.ApplyAsync(Set("q/key", "v1"));
        var now = await _client.QueryAsync(new KvGetQuery("q/key"), ReadOptions.Now);
        Assert.Equal("v1", now.Result!.Value.ToStringUtf8());
        Assert.Equal(written, now.Index);
        Assert.True(now.KnownLeader);

        var health = await _client.QueryAsync(new HealthServiceQuery("consul", []), new ReadOptions(Consistency: Consistency.Stale));
        Assert.Equal(3, health.Result.Count);
        Assert.Equal(["s1", "s2", "s3"], health.Result.Select(i => i.Node.Name).Order());
        var listed = await _client.QueryAsync(new KvListQuery("q/"), new ReadOptions(Consistency: Consistency.Consistent));
        Assert.Equal(["q/key"], listed.Result.Select(e => e.Key));

        // Held on the server the client reads from, which is then killed: the reads move on and still wake on the writes.
        var blocked = _client.QueryAsync(new KvGetQuery("q/key"), new ReadOptions(now.Index, TimeSpan.FromMinutes(2)));
        var services = await _client.QueryAsync(new ServiceNamesQuery(), ReadOptions.Now);
        var blockedCatalog = _client.QueryAsync(new ServiceNamesQuery(), new ReadOptions(services.Index, TimeSpan.FromMinutes(2)));
        var blockedHealth = _client.QueryAsync(new HealthServiceQuery("web", []), new ReadOptions(health.Index, TimeSpan.FromMinutes(2)));
        var attached = ServerAt(_client.Pool.Servers[0]);
        await attached.KillAsync();
        var (rewritten, _) = await WriteAsync(Set("q/key", "v2"));
        var woken = await blocked.WaitAsync(Due);
        Assert.Equal("v2", woken.Result!.Value.ToStringUtf8());
        Assert.True(woken.Index >= rewritten);

        var register = new Register { Node = new Node { Name = "s2" }, SkipNodeUpdate = true, Service = new Service { Id = "web-1", Name = "web", Port = 80 } };
        var (registered, _) = await WriteAsync(new Command { Register = register });
        // A blocking read wakes on any change to what it reads (the killed server's serfHealth may
        // turn critical first), so ask again from the new index until the registration shows, as a client does.
        var catalog = await blockedCatalog.WaitAsync(Due);
        while (!catalog.Result.ContainsKey("web"))
        {
            catalog = await _client.QueryAsync(new ServiceNamesQuery(), new ReadOptions(catalog.Index, TimeSpan.FromMinutes(2))).WaitAsync(Due);
        }

        Assert.True(catalog.Index >= registered);
        var web = await blockedHealth.WaitAsync(Due);
        while (web.Result.Count == 0)
        {
            web = await _client.QueryAsync(new HealthServiceQuery("web", []), new ReadOptions(web.Index, TimeSpan.FromMinutes(2))).WaitAsync(Due);
        }

        Assert.Equal("web-1", Assert.Single(web.Result).Service.Id);
    }

    [Fact]
    public async Task A_subscription_keeps_its_view_through_a_leader_change_and_the_death_of_its_server()
    {
        for (var i = 0; i < 5; i++)
        {
            await _client.ApplyAsync(Set($"s/k{i}", "0"));
        }

        using var stop = new CancellationTokenSource();
        await using var reader = _client.SubscribeAsync(new SubscribeRequest { Topic = SubscriptionTopic.Kv, Key = "s/" }, stop.Token).GetAsyncEnumerator(stop.Token);
        var view = new SubscriptionView();
        await UntilAsync(reader, view, v => v.Ready);
        Assert.Equal(["s/k0", "s/k1", "s/k2", "s/k3", "s/k4"], view.Entries.Keys.Order());
        var attached = ServerAt(_client.Pool.Servers[0]);

        // Leadership moves to another server; the stream carries on with the next write.
        var leader = await _cluster.LeaderAsync(Due);
        using (var moved = await leader.Http.PostAsync("/v1/operator/raft/transfer-leader", null))
        {
            Assert.True(moved.IsSuccessStatusCode, await moved.Content.ReadAsStringAsync());
        }

        Assert.NotEqual(leader.Name, (await _cluster.LeaderAsync(Due)).Name);
        await WriteAsync(Set("s/k1", "after-transfer"));
        await UntilAsync(reader, view, v => Value(v, "s/k1") == "after-transfer");

        // The server the stream is attached to dies; writes go on through the others.
        await attached.KillAsync();
        await WriteAsync(new Command { Kv = new KvOp { Verb = KvOp.Types.Verb.Delete, Key = "s/k0" } });
        for (var i = 5; i < 10; i++)
        {
            await WriteAsync(Set($"s/k{i}", "after-kill"));
        }

        await UntilAsync(reader, view, v => Value(v, "s/k9") == "after-kill");
        var expected = await _client.QueryAsync(new KvListQuery("s/"), new ReadOptions(Consistency: Consistency.Consistent));
        Assert.Equal(
            expected.Result.ToDictionary(e => e.Key, e => e.Value.ToStringUtf8()),
            view.Entries.ToDictionary(e => e.Key, e => ((KvEntry)e.Value).Value.ToStringUtf8()));
        Assert.Equal(1, view.Snapshots); // resumed on another server from its index: no second snapshot
        await stop.CancelAsync();
    }

    [Fact]
    public async Task A_health_watch_on_the_client_yields_the_whole_service_after_each_change()
    {
        using var stop = new CancellationTokenSource();
        await using var watch = new SubscriptionWatches(_client).WatchHealthAsync("api", stop.Token).GetAsyncEnumerator(stop.Token);
        Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(Due));
        Assert.Empty(watch.Current.Entries);

        var register = new Register { Node = new Node { Name = "s1" }, SkipNodeUpdate = true, Service = new Service { Id = "api-1", Name = "api", Port = 9000 } };
        register.Checks.Add(new Check { Id = "api-1-alive", Name = "alive", Status = "critical", ServiceId = "api-1" });
        var (index, _) = await WriteAsync(new Command { Register = register });
        Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(Due));
        var instance = Assert.Single(watch.Current.Entries);
        Assert.Equal(index, watch.Current.Index);
        Assert.Equal(("s1", "api-1"), (instance.Node.Name, instance.Service.Id));
        Assert.Contains(instance.Checks, c => c.Id == "api-1-alive" && c.Status == "critical");
        Assert.Contains(instance.Checks, c => c.Id == "serfHealth"); // the node's own checks count too
        await stop.CancelAsync();
    }

    [Fact]
    public async Task Malformed_queries_and_subscriptions_are_refused_as_invalid_arguments()
    {
        var port = _cluster.Servers[0].Args.Single(a => a.StartsWith("-server-port=", StringComparison.Ordinal))["-server-port=".Length..];
        using var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        var rpc = new ServerRpc.ServerRpcClient(channel);

        var empty = await Assert.ThrowsAsync<global::Grpc.Core.RpcException>(() => rpc.QueryAsync(new QueryRequest()).ResponseAsync);
        Assert.Equal(global::Grpc.Core.StatusCode.InvalidArgument, empty.StatusCode);
        Assert.Contains("unknown query", empty.Status.Detail, StringComparison.Ordinal);

        foreach (var (topic, key, reason) in new[] { ("nodes", "", "unknown topic"), ("service-health", "", "needs a service name"), ("config", "", "needs a kind") })
        {
            using var call = rpc.Subscribe(new SubscribeRequest { Topic = topic, Key = key });
            var refused = await Assert.ThrowsAsync<global::Grpc.Core.RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(global::Grpc.Core.StatusCode.InvalidArgument, refused.StatusCode);
            Assert.Contains(reason, refused.Status.Detail, StringComparison.Ordinal);
        }

        var unknownPeer = await Assert.ThrowsAsync<global::Grpc.Core.RpcException>(() => rpc.RemovePeerAsync(new PeerRequest { Id = "not-a-peer" }).ResponseAsync);
        Assert.Equal(global::Grpc.Core.StatusCode.InvalidArgument, unknownPeer.StatusCode);

        // The refusals changed nothing: the server still answers a well-formed query.
        var reply = await rpc.QueryAsync(new QueryRequest { ServiceNames = true });
        Assert.Contains("consul", reply.ServiceNames.Keys);
    }

    private AgentProcess ServerAt(string rpcAddress)
    {
        var port = rpcAddress[(rpcAddress.LastIndexOf(':') + 1)..];
        return _cluster.Servers.Single(s => s.Args.Contains($"-server-port={port}"));
    }

    /// <summary>A write through the client that retries while a leader is being elected (a KV set is idempotent).</summary>
    private async Task<(ulong Index, CommandResult Result)> WriteAsync(Command command)
    {
        using var cts = new CancellationTokenSource(Due);
        while (true)
        {
            try
            {
                return await _client.ApplyAsync(command.Clone(), cts.Token);
            }
            catch (Exception e) when (e is NoLeaderException or global::Grpc.Core.RpcException && !cts.IsCancellationRequested)
            {
                await _client.Lan.Changed.WaitAsync(TimeSpan.FromMilliseconds(250), cts.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private static Command Set(string key, string value) =>
        new() { Kv = new KvOp { Verb = KvOp.Types.Verb.Set, Key = key, Value = ByteString.CopyFromUtf8(value) } };

    private static string? Value(SubscriptionView view, string key) =>
        view.Entries.TryGetValue(key, out var entry) ? ((KvEntry)entry).Value.ToStringUtf8() : null;

    private static async Task UntilAsync(IAsyncEnumerator<SubscribeEvent> reader, SubscriptionView view, Func<SubscriptionView, bool> done)
    {
        while (!done(view))
        {
            Assert.True(await reader.MoveNextAsync().AsTask().WaitAsync(Due), "the stream ended");
            view.Apply(reader.Current);
        }
    }
}
