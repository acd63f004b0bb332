using Cluster.Agent.Config;
using Cluster.Agent.Local;
using Cluster.Server.Nodes;
using Cluster.Server.State;
using Cluster.Contracts.State;
using Cluster.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Tests.Local;

/// <summary>
/// The agent's local state and anti-entropy against a real state store (standing in for the
/// servers' Raft, which the process tests cover), on a manual clock.
/// </summary>
public sealed class LocalAgentTests : IAsyncDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly ManualTimeProvider _time = new();
    private readonly StoreConnection _servers = new();
    private readonly LocalAgent _agent;

    public LocalAgentTests()
    {
        _agent = new LocalAgent(
            new AgentIdentity("web-1", "4bbd5a3a-9b14-4c0e-8d4c-6f3f6d4e2a10", "dc1", IsServer: false),
            _servers,
            () => 3,
            () => "10.0.0.7",
            new LocalAgentOptions { SyncInterval = TimeSpan.FromMinutes(1), RetryInterval = TimeSpan.FromSeconds(15) },
            _time,
            new Random(7),
            NullLogger.Instance);
        _agent.StartSync();
    }

    public async ValueTask DisposeAsync() => await _agent.DisposeAsync();

    private StateVersion Catalog => _servers.Store.Current;

    private static LocalCheckSpec Ttl(string id, string serviceId, TimeSpan ttl, TimeSpan? deregisterAfter = null) =>
        new(new Check { Id = id, Name = id, ServiceId = serviceId, Type = "ttl" }, new CheckDefinition { Id = id, Name = id, Ttl = ttl, DeregisterCriticalServiceAfter = deregisterAfter });

    private static Service Web(string id = "web", int port = 80) => new() { Id = id, Name = "web", Port = port };

    [Fact]
    public async Task A_registration_reaches_the_catalog_with_its_node_and_checks_and_a_deregistration_removes_it()
    {
        await _agent.RegisterServiceAsync(Web(), [Ttl("service:web", "web", TimeSpan.FromSeconds(30))], CancellationToken.None);
        var node = Catalog.NodeServices("web-1").Result!.Value;
        Assert.Equal("10.0.0.7", node.Node.Address);
        Assert.Equal("4bbd5a3a-9b14-4c0e-8d4c-6f3f6d4e2a10", node.Node.Id);
        Assert.Equal(80, Assert.Single(node.Services).Port);
        Assert.Equal("critical", Assert.Single(Catalog.NodeChecks("web-1").Result).Status);

        await _agent.UpdateTtlAsync("service:web", "passing", "ok", CancellationToken.None);
        Assert.Equal("passing", Assert.Single(Catalog.NodeChecks("web-1").Result).Status);

        Assert.True(await _agent.DeregisterServiceAsync("web", CancellationToken.None));
        Assert.Empty(Catalog.NodeServices("web-1").Result!.Value.Services);
        Assert.Empty(Catalog.NodeChecks("web-1").Result);
    }

    [Fact]
    public async Task Local_state_is_authoritative_at_the_next_full_sync()
    {
        await _agent.RegisterServiceAsync(Web(), [], CancellationToken.None);
        await _agent.Idle.WaitAsync(Wait);

        // Someone else edits this node in the catalog: an unknown service appears, ours goes, and a check changes.
        _servers.Apply(new Command { Register = new Register { Node = new Node { Name = "web-1", Address = "10.0.0.7" }, SkipNodeUpdate = true, Service = new Service { Id = "stray", Name = "stray" } } });
        _servers.Apply(new Command { Deregister = new Deregister { Node = "web-1", ServiceId = "web" } });

        var turned = _agent.Turned;
        _time.Advance(TimeSpan.FromMinutes(1.5)); // the staggered full sync comes within 1.5 intervals
        await turned.WaitAsync(Wait);
        var services = Catalog.NodeServices("web-1").Result!.Value.Services;
        Assert.Equal("web", Assert.Single(services).Id);
    }

    [Fact]
    public async Task A_full_sync_of_what_is_in_sync_writes_nothing()
    {
        await _agent.RegisterServiceAsync(Web(), [Ttl("service:web", "web", TimeSpan.FromMinutes(10))], CancellationToken.None);
        await _agent.Idle.WaitAsync(Wait);
        var before = _agent.SyncStats;
        var index = Catalog.Index;

        var turned = _agent.Turned;
        _time.Advance(TimeSpan.FromMinutes(1.5));
        await turned.WaitAsync(Wait);
        Assert.Equal(before.Writes, _agent.SyncStats.Writes);
        Assert.Equal(index, Catalog.Index);
    }

    [Fact]
    public async Task With_the_servers_down_a_registration_is_kept_and_synced_once_they_answer()
    {
        await _agent.Idle.WaitAsync(Wait);
        _servers.Down = true;
        await _agent.RegisterServiceAsync(Web(), [], CancellationToken.None); // answers: local state holds it
        Assert.Equal("web", Assert.Single(_agent.Services).Id);
        Assert.Empty(Catalog.NodeServices("web-1").Result!.Value.Services); // the node itself was registered at start

        await _agent.Idle.WaitAsync(Wait);
        _servers.Down = false;
        var turned = _agent.Turned;
        _time.Advance(TimeSpan.FromSeconds(15)); // the retry interval
        await turned.WaitAsync(Wait);
        Assert.Equal("web", Assert.Single(Catalog.NodeServices("web-1").Result!.Value.Services).Id);
    }

    [Fact]
    public async Task A_ttl_check_turns_critical_when_its_ttl_runs_out_and_deregister_critical_after_removes_the_service()
    {
        await _agent.RegisterServiceAsync(Web(), [Ttl("service:web", "web", TimeSpan.FromSeconds(10), deregisterAfter: TimeSpan.FromMinutes(1))], CancellationToken.None);
        await _agent.UpdateTtlAsync("service:web", "passing", "fine", CancellationToken.None);
        await _agent.Idle.WaitAsync(Wait);

        _time.Advance(TimeSpan.FromSeconds(10));
        await _agent.SettledAsync().WaitAsync(Wait);
        var check = Assert.Single(Catalog.NodeChecks("web-1").Result);
        Assert.Equal("critical", check.Status);
        Assert.StartsWith("TTL expired", check.Output, StringComparison.Ordinal);

        await _agent.Idle.WaitAsync(Wait);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Empty(_agent.Services);
        await _agent.SettledAsync().WaitAsync(Wait);
        Assert.Empty(Catalog.NodeServices("web-1").Result!.Value.Services);
    }

    [Fact]
    public async Task Maintenance_mode_adds_a_critical_check_and_removes_it_when_disabled()
    {
        await _agent.RegisterServiceAsync(Web(), [], CancellationToken.None);
        await _agent.SetServiceMaintenanceAsync("web", true, "deploying", CancellationToken.None);
        await _agent.SetNodeMaintenanceAsync(true, null, CancellationToken.None);
        var checks = Catalog.NodeChecks("web-1").Result.ToDictionary(c => c.Id);
        Assert.Equal("critical", checks["_service_maintenance:web"].Status);
        Assert.Equal("deploying", checks["_service_maintenance:web"].Notes);
        Assert.Equal("critical", checks["_node_maintenance"].Status);

        await _agent.SetServiceMaintenanceAsync("web", false, null, CancellationToken.None);
        await _agent.SetNodeMaintenanceAsync(false, null, CancellationToken.None);
        Assert.Empty(Catalog.NodeChecks("web-1").Result);
        await Assert.ThrowsAsync<KeyNotFoundException>(() => _agent.SetServiceMaintenanceAsync("nope", true, null, CancellationToken.None));
    }

    [Fact]
    public async Task Registering_the_same_check_again_keeps_its_status_and_changed_fires_on_local_changes()
    {
        await _agent.RegisterServiceAsync(Web(), [Ttl("service:web", "web", TimeSpan.FromMinutes(1))], CancellationToken.None);
        await _agent.UpdateTtlAsync("service:web", "passing", "", CancellationToken.None);
        var changed = _agent.Changed;
        await _agent.RegisterServiceAsync(Web(), [Ttl("service:web", "web", TimeSpan.FromMinutes(1))], CancellationToken.None);
        Assert.Equal("passing", Assert.Single(_agent.Checks).Status);
        Assert.True(changed.IsCompleted);
        Assert.False(_agent.Changed.IsCompleted);
    }

    [Fact]
    public async Task Check_output_is_bounded()
    {
        await _agent.RegisterServiceAsync(Web(), [Ttl("service:web", "web", TimeSpan.FromMinutes(1))], CancellationToken.None);
        await _agent.UpdateTtlAsync("service:web", "warning", new string('é', 5000), CancellationToken.None);
        var output = Assert.Single(_agent.Checks).Output;
        Assert.EndsWith("(output truncated)", output, StringComparison.Ordinal);
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(output) <= 4096 + 32);
    }

    [Theory]
    [InlineData(3, 1)]
    [InlineData(128, 1)]
    [InlineData(129, 2)]
    [InlineData(256, 2)]
    [InlineData(257, 3)]
    [InlineData(10_000, 8)]
    public void The_full_sync_interval_grows_with_the_cluster(int nodes, int multiple) =>
        Assert.Equal(TimeSpan.FromMinutes(multiple), LocalAgent.ScaledInterval(TimeSpan.FromMinutes(1), nodes));

    /// <summary>A real store at a growing index; "down" answers as servers without a leader do.</summary>
    private sealed class StoreConnection : ICatalogSync
    {
        private ulong _index;

        public StateStore Store { get; } = new();

        public volatile bool Down;

        public CommandResult Apply(Command command)
        {
            lock (Store)
            {
                return Store.Apply(++_index, command);
            }
        }

        public Task<(ulong Index, CommandResult Result)> ApplyAsync(Command command, CancellationToken cancellationToken = default)
        {
            if (Down)
            {
                throw new NoLeaderException("No cluster leader");
            }

            lock (Store)
            {
                var result = Store.Apply(++_index, command);
                return Task.FromResult((_index, result));
            }
        }

        public Task<NodeStateReply> NodeStateAsync(string node, Consistency consistency, CancellationToken cancellationToken = default) =>
            Down ? throw new NoLeaderException("No cluster leader") : Task.FromResult(CatalogReplies.NodeState(Store.Current, node));
    }
}
