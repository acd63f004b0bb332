using System.Text.Json;
using Cluster.Testing.Agent;

namespace Cluster.Tests.Actors;

/// <summary>
/// Three servers and a client agent, as `cluster agent` processes: every agent is a member of the
/// datacenter's one Akka cluster, formed from LAN gossip. A SIGKILLed server is downed in Akka
/// once gossip declares it failed, and comes back as a new member when restarted; a client that
/// stops gracefully leaves both. At every step each survivor's gossip pool and Akka agree.
/// </summary>
[Trait("Category", "Integration")]
public sealed class AgentActorClusterTests : IAsyncLifetime
{
    private const int Alive = 1;
    private const int Left = 3;
    private const int Failed = 4;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private AgentCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await AgentCluster.StartAsync(3);
        await _cluster.StartClientAsync("c1");
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Every_agent_is_in_one_akka_cluster_that_follows_gossip()
    {
        var s3 = _cluster.Servers[2];
        var c1 = _cluster.Clients[0];
        AgentProcess[] everyone = [.. _cluster.Servers, c1];

        // All four Up and reachable on every agent, each at the address its gossip tag advertises,
        // in the system named after the datacenter.
        var addresses = await AgreeAsync(everyone, new Dictionary<string, int> { ["s1"] = Alive, ["s2"] = Alive, ["s3"] = Alive, ["c1"] = Alive });
        Assert.All(addresses.Values, a => Assert.StartsWith("akka.tcp://mesh-dc1@127.0.0.1:", a, StringComparison.Ordinal));
        Assert.Equal(4, addresses.Values.Distinct().Count());

        // SIGKILL a server: once gossip calls it failed, Akka on every survivor has removed it.
        var killed = addresses["s3"];
        await s3.KillAsync();
        AgentProcess[] survivors = [_cluster.Servers[0], _cluster.Servers[1], c1];
        var afterKill = await AgreeAsync(survivors, new Dictionary<string, int> { ["s1"] = Alive, ["s2"] = Alive, ["s3"] = Failed, ["c1"] = Alive });
        Assert.DoesNotContain(killed, afterKill.Values);

        // Restarted (same gossip port, a new actor port): a new member, Up everywhere.
        await s3.RestartAsync();
        var back = await AgreeAsync(everyone, new Dictionary<string, int> { ["s1"] = Alive, ["s2"] = Alive, ["s3"] = Alive, ["c1"] = Alive });
        Assert.NotEqual(killed, back["s3"]);

        // A client that stops gracefully leaves Akka as it leaves gossip.
        Assert.Equal(0, await c1.TerminateAsync());
        await AgreeAsync(_cluster.Servers, new Dictionary<string, int> { ["s1"] = Alive, ["s2"] = Alive, ["s3"] = Alive, ["c1"] = Left });
    }

    /// <summary>
    /// Waits (blocking reads of /v1/agent/members and /v1/agent/actors) until each agent's gossip
    /// shows <paramref name="expected"/> and its Akka cluster holds exactly the alive ones, Up and
    /// reachable, at the addresses their gossip tags advertise. Returns node name → actor address.
    /// </summary>
    private static async Task<Dictionary<string, string>> AgreeAsync(IReadOnlyList<AgentProcess> agents, Dictionary<string, int> expected)
    {
        Dictionary<string, string> addresses = [];
        foreach (var agent in agents)
        {
            var deadline = DateTime.UtcNow + Timeout;
            while (true)
            {
                using var members = await AgentWaits.UntilAsync(agent.Http, "/v1/agent/members", json => Matches(json, expected), Timeout);
                var advertised = Advertised(members.RootElement);
                try
                {
                    // A round is bounded: if gossip moves on (a tag changes) while Akka is awaited, start over from gossip.
                    using var actors = await AgentWaits.UntilAsync(agent.Http, "/v1/agent/actors", json => Holds(json, advertised.Values), TimeSpan.FromSeconds(15));
                    using var again = JsonDocument.Parse(await agent.Http.GetStringAsync(new Uri("/v1/agent/members", UriKind.Relative)));
                    if (Matches(again.RootElement, expected) && Advertised(again.RootElement).SequenceEqual(advertised))
                    {
                        Assert.Equal("Up", actors.RootElement.GetProperty("Status").GetString());
                        addresses = advertised;
                        break;
                    }
                }
                catch (TimeoutException) when (DateTime.UtcNow < deadline)
                {
                }
            }
        }

        return addresses;
    }

    /// <summary>Alive members' names → the Akka address their "actors" tag advertises.</summary>
    private static Dictionary<string, string> Advertised(JsonElement members) =>
        members.EnumerateArray()
            .Where(m => m.GetProperty("Status").GetInt32() == Alive)
            .OrderBy(m => m.GetProperty("Name").GetString(), StringComparer.Ordinal)
            .ToDictionary(m => m.GetProperty("Name").GetString()!, m => $"akka.tcp://mesh-dc1@{m.GetProperty("Tags").GetProperty("actors").GetString()}");

    /// <summary>Every expected member in its expected state, and every alive one advertising its actors.</summary>
    private static bool Matches(JsonElement members, Dictionary<string, int> expected) =>
        expected.All(e => members.EnumerateArray().Any(m => m.GetProperty("Name").GetString() == e.Key && m.GetProperty("Status").GetInt32() == e.Value))
        && members.EnumerateArray().All(m => m.GetProperty("Status").GetInt32() != Alive || m.GetProperty("Tags").TryGetProperty("actors", out _));

    private static bool Holds(JsonElement actors, IEnumerable<string> addresses)
    {
        var members = actors.GetProperty("Members").EnumerateArray().ToList();
        return members.Count == addresses.Count()
            && addresses.All(a => members.Any(m => m.GetProperty("Address").GetString() == a && m.GetProperty("Status").GetString() == "Up" && m.GetProperty("Reachable").GetBoolean()));
    }
}
