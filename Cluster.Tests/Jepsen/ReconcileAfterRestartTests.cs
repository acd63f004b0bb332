using System.Net.Http.Json;
using System.Text.Json;
using Cluster.Testing.Jepsen;

namespace Cluster.Tests.Jepsen;

/// <summary>
/// Found by the history check (acquires answered "invalid session" after a kill and a partition
/// overlapped): a server restarted while its gossip could reach nobody still won a Raft election
/// (Raft has its own addresses), and as leader deregistered every catalog node its gossip did not
/// know yet — destroying their sessions and releasing their locks.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ReconcileAfterRestartTests
{
    private const int GossipPort = 8301;

    [Fact]
    public async Task A_restarted_server_that_leads_before_its_gossip_finds_anyone_keeps_the_other_nodes_and_their_sessions()
    {
        Assert.Null(NetworkLab.Unavailable());
        var root = Path.Combine(Path.GetTempPath(), $"reconcile-{Guid.NewGuid():N}");
        await using var cluster = await JepsenCluster.StartAsync(3, root, seed: 11);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        Uri At(int server, string path) => new(cluster.Servers[server].HttpAddress, path);

        // A session on s1 (no health checks: only a destroy, or its node leaving the catalog, ends it) holding a lock.
        using var created = await http.PutAsync(At(0, "/v1/session/create"), new StringContent("""{"Name":"holder","Checks":[],"NodeChecks":[]}"""));
        created.EnsureSuccessStatusCode();
        var session = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ID").GetString();
        using (var acquired = await http.PutAsync(At(0, $"/v1/kv/locked?acquire={session}"), new StringContent("s1")))
        {
            Assert.Equal("true", await acquired.Content.ReadAsStringAsync());
        }

        // s3 comes back with its gossip cut off from both others (Raft still reaches them), then takes the lead.
        const int restarted = 2;
        await cluster.Lab.PartitionAsync([restarted], GossipPort);
        await cluster.RestartAsync(restarted);
        await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30)); // if s3 led, the others elect one first
        using var config = JsonDocument.Parse(await http.GetStringAsync(At(0, "/v1/operator/raft/configuration")));
        var id = config.RootElement.GetProperty("Servers").EnumerateArray()
            .Single(s => s.GetProperty("Address").GetString() == $"{cluster.Lab.Address(restarted)}:8300").GetProperty("ID").GetString();
        // A transfer can fail while the restarted server is still catching up on the log: ask again (bounded).
        var refusals = new List<string>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var leader = await cluster.LeaderAsync(CancellationToken.None) ?? throw new InvalidOperationException("no leader");
            if (leader == restarted)
            {
                break;
            }

            using var transfer = await http.PostAsync(At(leader, $"/v1/operator/raft/transfer-leader?id={id}"), null);
            if (!transfer.IsSuccessStatusCode)
            {
                refusals.Add($"{(int)transfer.StatusCode} {await transfer.Content.ReadAsStringAsync()}");
            }
        }

        Assert.True(restarted == await cluster.LeaderAsync(CancellationToken.None), "the restarted server never took the lead: " + string.Join("; ", refusals));

        // The new leader reconciles the catalog at once when it takes over; a deregistration would wake this query early.
        using var nodes = await http.GetAsync(At(restarted, "/v1/catalog/nodes?consistent"));
        var index = nodes.Headers.GetValues("X-Consul-Index").First();
        using var after = await http.GetAsync(At(restarted, $"/v1/catalog/nodes?index={index}&wait=6s"));
        var names = (await after.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Select(n => n.GetProperty("Node").GetString()).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["s1", "s2", "s3"], names);
        using var info = await http.GetAsync(At(restarted, $"/v1/session/info/{session}?consistent"));
        Assert.Equal(JsonValueKind.Object, (await info.Content.ReadFromJsonAsync<JsonElement>())[0].ValueKind);
        using var lockEntry = JsonDocument.Parse(await http.GetStringAsync(At(restarted, "/v1/kv/locked?consistent")));
        Assert.Equal(session, lockEntry.RootElement[0].GetProperty("Session").GetString());
    }
}
