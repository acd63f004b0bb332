using System.Net;

namespace Cluster.Tests.Server;

/// <summary>/v1/config for proxy-defaults and service-defaults: writes, reads, lists, deletes and validation.</summary>
[Trait("Category", "Integration")]
public sealed class HttpConfigTests(HttpAgentFixture agent) : IClassFixture<HttpAgentFixture>
{
    [Fact]
    public async Task Proxy_defaults_put_get_list_and_delete()
    {
        var put = await agent.PutAsync("/v1/config", """{"Kind": "proxy-defaults", "Name": "global", "Config": {"protocol": "http", "local_connect_timeout_ms": 1000}}""");
        Assert.Equal(HttpStatusCode.OK, put.Status);
        Assert.Equal("true", put.Text);

        var get = await agent.GetAsync("/v1/config/proxy-defaults/global");
        Assert.Equal(HttpStatusCode.OK, get.Status);
        Assert.True(get.Index > 0);
        var entry = get.Json!.AsObject();
        Assert.Equal(["Kind", "Name", "Config", "CreateIndex", "ModifyIndex"], entry.Select(p => p.Key));
        Assert.Equal("proxy-defaults", (string?)entry["Kind"]);
        // Config is opaque to the server: its keys are kept as written.
        Assert.Equal(["protocol", "local_connect_timeout_ms"], entry["Config"]!.AsObject().Select(p => p.Key));
        Assert.Equal(1000, (int)entry["Config"]!["local_connect_timeout_ms"]!);

        var list = await agent.GetAsync("/v1/config/proxy-defaults");
        Assert.Equal(["global"], list.Json!.AsArray().Select(e => (string?)e!["Name"]));
        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync("/v1/config/proxydefaults/global")).Status);

        var delete = await agent.DeleteAsync("/v1/config/proxy-defaults/global");
        Assert.Equal(HttpStatusCode.OK, delete.Status);
        Assert.Equal("{}", delete.Text);
        var gone = await agent.GetAsync("/v1/config/proxy-defaults/global");
        Assert.Equal(HttpStatusCode.NotFound, gone.Status);
        Assert.True(gone.Index > 0);
        Assert.Empty((await agent.GetAsync("/v1/config/proxy-defaults")).Json!.AsArray());
    }

    [Fact]
    public async Task Service_defaults_with_cas_writes_and_deletes()
    {
        Assert.Equal("true", (await agent.PutAsync("/v1/config?cas=0", """{"Kind": "service-defaults", "Name": "sd-web", "Protocol": "http"}""")).Text);
        Assert.Equal("false", (await agent.PutAsync("/v1/config?cas=0", """{"Kind": "service-defaults", "Name": "sd-web", "Protocol": "grpc"}""")).Text);
        var entry = (await agent.GetAsync("/v1/config/service-defaults/sd-web")).Json!;
        Assert.Equal("http", (string?)entry["Protocol"]);
        var index = (ulong)entry["ModifyIndex"]!;

        Assert.Equal("true", (await agent.PutAsync($"/v1/config?cas={index}", """{"Kind": "service-defaults", "Name": "sd-web", "Protocol": "grpc"}""")).Text);
        var updated = (await agent.GetAsync("/v1/config/service-defaults/sd-web")).Json!;
        Assert.Equal("grpc", (string?)updated["Protocol"]);
        Assert.Equal(index, (ulong)updated["CreateIndex"]!);

        Assert.Equal("true", (await agent.PutAsync("/v1/config", """{"Kind": "service-defaults", "Name": "sd-api"}""")).Text);
        Assert.Equal(["sd-api", "sd-web"], (await agent.GetAsync("/v1/config/service-defaults")).Json!.AsArray().Select(e => (string)e!["Name"]!).Where(n => n.StartsWith("sd-", StringComparison.Ordinal)));

        Assert.Equal("false", (await agent.DeleteAsync($"/v1/config/service-defaults/sd-web?cas={index}")).Text);
        Assert.Equal(HttpStatusCode.OK, (await agent.GetAsync("/v1/config/service-defaults/sd-web")).Status);
        Assert.Equal("true", (await agent.DeleteAsync($"/v1/config/service-defaults/sd-web?cas={(ulong)updated["ModifyIndex"]!}")).Text);
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync("/v1/config/service-defaults/sd-web")).Status);
    }

    [Fact]
    public async Task Snake_case_and_other_cases_are_normalised_to_Consul_names_at_every_level_but_opaque_maps_keep_theirs()
    {
        var put = await agent.PutAsync("/v1/config", """
            {
              "kind": "service-defaults", "name": "snake", "protocol": "grpc", "max_inbound_connections": 5,
              "mesh_gateway": {"mode": "local"},
              "transparent_proxy": {"outbound_listener_port": 15001, "dialed_directly": true},
              "upstream_config": {"defaults": {"connect_timeout_ms": 500, "limits": {"max_connections": 10}}},
              "meta": {"owner_team": "core"}
            }
            """);
        Assert.True(put.Status == HttpStatusCode.OK, put.ToString());
        var entry = (await agent.GetAsync("/v1/config/service-defaults/snake")).Json!.AsObject();
        Assert.Equal(
            ["Kind", "Name", "Protocol", "MaxInboundConnections", "MeshGateway", "TransparentProxy", "UpstreamConfig", "Meta", "CreateIndex", "ModifyIndex"],
            entry.Select(p => p.Key));
        Assert.Equal("service-defaults", (string?)entry["Kind"]);
        Assert.Equal("grpc", (string?)entry["Protocol"]);
        Assert.Equal(5, (int)entry["MaxInboundConnections"]!);
        Assert.Equal("local", (string?)entry["MeshGateway"]!["Mode"]);
        Assert.Equal(15001, (int)entry["TransparentProxy"]!["OutboundListenerPort"]!);
        Assert.True((bool)entry["TransparentProxy"]!["DialedDirectly"]!);
        Assert.Equal(500, (int)entry["UpstreamConfig"]!["Defaults"]!["ConnectTimeoutMs"]!);
        Assert.Equal(10, (int)entry["UpstreamConfig"]!["Defaults"]!["Limits"]!["MaxConnections"]!);
        Assert.Equal(["owner_team"], entry["Meta"]!.AsObject().Select(p => p.Key));

        var upper = await agent.PutAsync("/v1/config", """{"KIND": "service-defaults", "NAME": "upper", "PROTOCOL": "http", "meshGateway": {"MODE": "remote"}}""");
        Assert.True(upper.Status == HttpStatusCode.OK, upper.ToString());
        var upperEntry = (await agent.GetAsync("/v1/config/service-defaults/upper")).Json!;
        Assert.Equal("http", (string?)upperEntry["Protocol"]);
        Assert.Equal("remote", (string?)upperEntry["MeshGateway"]!["Mode"]);

        // Validation sees the normalised names: a bad mode in snake_case is refused like one in Consul's case.
        var bad = await agent.PutAsync("/v1/config", """{"kind": "service-defaults", "name": "snake-bad", "mesh_gateway": {"mode": "sideways"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync("/v1/config/service-defaults/snake-bad")).Status);
    }

    [Theory]
    [InlineData("""{"Kind": "proxy-defaults", "Name": "other"}""", "global")]
    [InlineData("""{"Kind": "proxy-defaults"}""", "global")]
    [InlineData("""{"Kind": "service-defaults", "Name": "v-bad", "Protocol": "ftp"}""", "ftp")]
    [InlineData("""{"Kind": "service-defaults", "Name": "v-bad", "Protocol": 7}""", "Protocol")]
    [InlineData("""{"Kind": "service-defaults", "Name": "v-bad", "Colour": "blue"}""", "Colour")]
    [InlineData("""{"Kind": "proxy-defaults", "Name": "global", "Protocol": "http"}""", "Protocol")]
    [InlineData("""{"Kind": "service-defaults"}""", "Name")]
    [InlineData("""{"Name": "v-bad"}""", "Kind")]
    [InlineData("""{"Kind": "mesh-nonsense", "Name": "v-bad"}""", "mesh-nonsense")]
    [InlineData("""{"Kind": "service-defaults", "Name": "v-bad", "MeshGateway": {"Mode": "sideways"}}""", "sideways")]
    [InlineData("""{"Kind": "service-defaults", "Name": "v-bad", "MeshGateway": "local"}""", "MeshGateway")]
    [InlineData("""{"Kind": "service-defaults", "Name": "v-bad", "Mode": "teleport"}""", "teleport")]
    [InlineData("""{"Kind": "service-defaults", "Name": "v-bad", "MaxInboundConnections": -1}""", "MaxInboundConnections")]
    [InlineData("""{"Kind": "service-defaults", "Name": "v-bad", "Meta": {"a": 1}}""", "Meta")]
    [InlineData("""{"Kind": "proxy-defaults", "Name": "global", "Config": [1]}""", "Config")]
    public async Task An_invalid_entry_is_400_naming_the_problem_and_writes_nothing(string body, string expected)
    {
        var before = await agent.GetAsync("/v1/config/service-defaults");
        var reply = await agent.PutAsync("/v1/config", body);
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Contains(expected, reply.Text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync("/v1/config/service-defaults/v-bad")).Status);
        Assert.Equal(before.Index, (await agent.GetAsync("/v1/config/service-defaults")).Index);
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync("/v1/config/proxy-defaults/other")).Status);
    }

    [Fact]
    public async Task Reading_an_unknown_kind_is_400_and_a_missing_entry_404()
    {
        Assert.Equal(HttpStatusCode.BadRequest, (await agent.GetAsync("/v1/config/nonsense")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await agent.DeleteAsync("/v1/config/nonsense/x")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await agent.DeleteAsync("/v1/config/service-defaults")).Status);
        var missing = await agent.GetAsync("/v1/config/service-defaults/never");
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Contains("never", missing.Text, StringComparison.Ordinal);
    }
}
