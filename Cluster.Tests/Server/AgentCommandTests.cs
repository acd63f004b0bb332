using System.Text.Json;
using Cluster.Testing;
using Cluster.Testing.Agent;

namespace Cluster.Tests.Server;

/// <summary>`cluster agent` as users start it: config files read, bad ones refused with their place, SIGTERM stops it cleanly.</summary>
[Trait("Category", "Integration")]
public sealed class AgentCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cluster-agent-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_bad_config_file_stops_the_agent_with_file_line_and_column()
    {
        var bad = Path.Combine(_dir, "bad.hcl");
        await File.WriteAllTextAsync(bad, "service {\n  name = \"web\"\n  port = \"eighty\"\n}\n");
        var (exit, stdout, stderr) = await PeerProcess.RunAsync("dotnet", [PeerProcess.BuiltDll("Cluster.Cli", "cluster"), "agent", "-dev", $"-config-file={bad}"], TimeSpan.FromSeconds(60));
        Assert.Equal(1, exit);
        Assert.Contains($"{bad}:3:10:", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("agent running", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_taken_actors_port_stops_the_agent_with_a_clear_error()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var ports = AgentProcess.FreePorts(3);
        var (exit, stdout, stderr) = await PeerProcess.RunAsync(
            "dotnet",
            [PeerProcess.BuiltDll("Cluster.Cli", "cluster"), "agent", "-dev", $"-http-port={ports[0]}", $"-server-port={ports[1]}", $"-serf-lan-port={ports[2]}", "-dns-port=0", $"-actors-port={port}"],
            TimeSpan.FromSeconds(60));
        Assert.Equal(1, exit);
        Assert.Contains($"==> Error starting agent: actors port {port}: Address already in use", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("agent running", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Services_and_bootstrap_config_entries_from_a_config_dir_reach_the_catalog_and_sigterm_stops_the_agent()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "web.hcl"), """
            service {
              name = "web"
              port = 80
              tags = ["v1"]
              check {
                ttl = "30s"
              }
            }
            """);
        await File.WriteAllTextAsync(Path.Combine(_dir, "entries.json"), """
            { "config_entries": { "bootstrap": [ { "Kind": "service-defaults", "Name": "web", "Protocol": "http" } ] } }
            """);
        await using var agent = await AgentProcess.StartAsync("dev", "-dev", "-node=dev", "-http-port=0", "-server-port=0", "-serf-lan-port=0", $"-config-dir={_dir}");

        // Blocking queries until the configured state is written (it waits for the leader).
        using var service = await WaitForAsync(agent, "/v1/catalog/service/web", json => json.GetArrayLength() == 1);
        Assert.Equal(80, service.RootElement[0].GetProperty("ServicePort").GetInt32());

        using var checks = JsonDocument.Parse(await agent.Http.GetStringAsync("/v1/health/checks/web"));
        Assert.Equal("service:web", checks.RootElement[0].GetProperty("CheckID").GetString());
        Assert.Equal("critical", checks.RootElement[0].GetProperty("Status").GetString()); // a TTL check starts critical

        using var entry = await WaitForAsync(agent, "/v1/config/service-defaults/web", json => json.ValueKind == JsonValueKind.Object);
        Assert.Equal("http", entry.RootElement.GetProperty("Protocol").GetString());

        Assert.Equal(0, await agent.TerminateAsync());
        Assert.Contains("Gracefully shutting down agent", agent.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sighup_rereads_the_config_files_and_the_catalog_follows()
    {
        var file = Path.Combine(_dir, "services.hcl");
        await File.WriteAllTextAsync(file, """
            service {
              name = "old"
              port = 80
            }
            service {
              name = "kept"
              port = 81
              check {
                ttl = "5m"
              }
            }
            """);
        await using var agent = await AgentProcess.StartAsync("dev", "-dev", "-node=dev", "-http-port=0", "-server-port=0", "-serf-lan-port=0", $"-config-file={file}");
        using (await WaitForAsync(agent, "/v1/catalog/service/old", json => json.GetArrayLength() == 1))
        {
        }

        using (var pass = new StringContent(""))
        {
            (await agent.Http.PutAsync("/v1/agent/check/pass/service:kept", pass)).EnsureSuccessStatusCode();
        }

        await File.WriteAllTextAsync(file, """
            service {
              name = "new"
              port = 82
            }
            service {
              name = "kept"
              port = 81
              check {
                ttl = "5m"
              }
            }
            """);
        Assert.True(Signals.Send(agent.Pid, Signals.Hangup));
        using (await WaitForAsync(agent, "/v1/catalog/service/new", json => json.GetArrayLength() == 1))
        {
        }

        using var old = await WaitForAsync(agent, "/v1/catalog/service/old", json => json.GetArrayLength() == 0);
        using var checks = JsonDocument.Parse(await agent.Http.GetStringAsync("/v1/health/checks/kept"));
        Assert.Equal("passing", checks.RootElement[0].GetProperty("Status").GetString()); // an unchanged check keeps its status
        // The line follows the catalog change it reports: wait for it rather than read it at once.
        await agent.WaitForOutputAsync("Reload complete", TimeSpan.FromSeconds(30));
    }

    /// <summary>Follows <paramref name="path"/> by blocking query until its JSON satisfies <paramref name="done"/> (a 404 counts as not yet).</summary>
    private static Task<JsonDocument> WaitForAsync(AgentProcess agent, string path, Func<JsonElement, bool> done) =>
        AgentWaits.UntilAsync(agent.Http, path, done, TimeSpan.FromSeconds(60));
}
