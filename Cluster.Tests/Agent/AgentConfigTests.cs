using System.Text.Json.Nodes;
using Cluster.Agent.Config;

namespace Cluster.Tests.Agent;

public sealed class AgentConfigTests
{
    private static readonly AgentFlags WithDataDir = new() { DataDir = "/var/lib/cluster" };

    private static AgentConfig FromFiles(AgentFlags flags, params (string File, string Text)[] files) =>
        AgentConfigLoader.Build(flags, files.Select(f => AgentConfigLoader.Parse(f.File, f.Text)));

    private static AgentConfig FromFile(string file, string text) => FromFiles(WithDataDir, (file, text));

    [Fact]
    public void Consuls_documented_service_with_an_http_check()
    {
        var config = FromFile("web.hcl", """
            service {
              name = "web"
              port = 80
              check {
                http = "http://localhost:80/health"
                interval = "10s"
              }
            }
            """);

        var web = Assert.Single(config.Services);
        Assert.Equal("web", web.Id);
        Assert.Equal(80, web.Port);
        Assert.Equal(new ServiceWeights(1, 1), web.Weights);
        var check = Assert.Single(web.AllChecks);
        Assert.Same(web.Check, check);
        Assert.Equal(CheckKind.Http, check.Kind);
        Assert.Equal("http://localhost:80/health", check.Http);
        Assert.Equal(TimeSpan.FromSeconds(10), check.Interval);
        Assert.Equal("service:web", check.Id);
        Assert.Equal("Service 'web' check", check.Name);
        Assert.Equal("web", check.ServiceId);
        Assert.Equal("critical", check.Status);
    }

    [Fact]
    public void Defaults_are_consuls()
    {
        var config = AgentConfigLoader.Build(WithDataDir, []);

        Assert.Equal(System.Net.Dns.GetHostName(), config.NodeName);
        Assert.Equal("dc1", config.Datacenter);
        Assert.Equal("/var/lib/cluster", config.DataDir);
        Assert.False(config.Server);
        Assert.False(config.Dev);
        Assert.Equal("0.0.0.0", config.BindAddr);
        Assert.Equal("127.0.0.1", config.ClientAddr);
        Assert.Null(config.AdvertiseAddr);
        Assert.Equal(new AgentPorts { Http = 8500, Https = -1, Grpc = 8502, Dns = 8600, Server = 8300, SerfLan = 8301, SerfWan = 8302, Actors = 8303 }, config.Ports);
        Assert.Equal(TimeSpan.FromSeconds(30), config.RetryInterval);
        Assert.Equal("info", config.LogLevel);
        Assert.True(config.RaftFsync);
        Assert.False(config.UiEnabled);
        Assert.Empty(config.Warnings);
        Assert.Equal(AgentConfig.Default with { DataDir = "/var/lib/cluster" }, config);
    }

    [Fact]
    public void Dev_mode_is_a_loopback_server_that_elects_itself_and_needs_no_data_dir()
    {
        var config = AgentConfigLoader.Load(["-dev"]);

        Assert.True(config.Dev);
        Assert.True(config.Server);
        Assert.True(config.Bootstrap);
        Assert.Null(config.DataDir);
        Assert.Equal("127.0.0.1", config.BindAddr);
        Assert.Equal(8502, config.Ports.Grpc);
        Assert.False(config.RaftFsync);
        Assert.True(config.UiEnabled);
        Assert.Empty(config.Warnings);
    }

    private const string FullHcl = """
        node_name = "node-1"
        node_id = "9F1C7A3E-5B7D-4C2E-8A1F-2B3C4D5E6F70"
        datacenter = "East-1"
        server = true
        bootstrap_expect = 3
        bind_addr = "10.0.0.5"
        advertise_addr = "10.0.0.5"
        client_addr = "127.0.0.1 10.0.0.5"
        ports {
          http = 8600
          dns = 8700
          grpc = -1
        }
        retry_join = ["10.0.0.1", "10.0.0.2:9301", "[::1]", "fe80::1"]
        retry_interval = "1m30s"
        encrypt = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s="
        log_level = "DEBUG"
        ui_config { enabled = true }
        enable_script_checks = true
        raft_fsync = false
        service {
          id = "web-1"
          name = "web"
          tags = ["v1", "primary"]
          address = "10.0.0.5"
          port = 8080
          meta { version = "1.2" }
          enable_tag_override = true
          weights { passing = 3 }
          connect { sidecar_service {} }
          checks = [
            { name = "alive", tcp = "localhost:8080", interval = "5s", timeout = "1s" },
            { id = "ready", name = "ready", http = "http://localhost:8080/ready", method = "HEAD",
              header = { X-Probe = ["1"] }, interval = "10s", tls_skip_verify = true },
          ]
        }
        service {
          name = "db"
          port = 5432
        }
        check {
          id = "disk"
          name = "disk"
          args = ["/bin/check-disk", "-w", "90"]
          interval = "30s"
          deregister_critical_service_after = "90m"
        }
        check {
          name = "heartbeat"
          ttl = "30s"
          status = "passing"
        }
        config_entries {
          bootstrap = [
            { Kind = "proxy-defaults", Name = "global", Config = { protocol = "http" } },
          ]
        }
        """;

    // The same settings in JSON, in Consul's other spelling where it has one.
    private const string FullJson = """
        {
          "NodeName": "node-1",
          "node_id": "9f1c7a3e-5b7d-4c2e-8a1f-2b3c4d5e6f70",
          "Datacenter": "east-1",
          "Server": true,
          "BootstrapExpect": 3,
          "bind_addr": "10.0.0.5",
          "AdvertiseAddr": "10.0.0.5",
          "client_addr": "127.0.0.1 10.0.0.5",
          "ports": { "HTTP": 8600, "dns": 8700, "grpc": -1 },
          "retry_join": ["10.0.0.1:8301", "10.0.0.2:9301", "[::1]:8301", "[fe80::1]"],
          "RetryInterval": "90s",
          "encrypt": "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=",
          "log_level": "debug",
          "ui": true,
          "enable_script_checks": "true",
          "raft_fsync": false,
          "services": [
            {
              "ID": "web-1",
              "Name": "web",
              "Tags": ["v1", "primary"],
              "Address": "10.0.0.5",
              "Port": "8080",
              "Meta": { "version": "1.2" },
              "EnableTagOverride": true,
              "Weights": { "Passing": 3, "Warning": 1 },
              "Connect": { "sidecar_service": {} },
              "Checks": [
                { "Name": "alive", "TCP": "localhost:8080", "Interval": "5s", "Timeout": "1000ms" },
                { "CheckID": "ready", "Name": "ready", "HTTP": "http://localhost:8080/ready", "Method": "HEAD",
                  "Header": { "X-Probe": ["1"] }, "Interval": "10s", "TLSSkipVerify": true }
              ]
            },
            { "name": "db", "port": 5432 }
          ],
          "checks": [
            { "CheckID": "disk", "Name": "disk", "ScriptArgs": ["/bin/check-disk", "-w", "90"], "Interval": "30s",
              "DeregisterCriticalServiceAfter": "1h30m" },
            { "name": "heartbeat", "TTL": "30s", "Status": "passing" }
          ],
          "config_entries": {
            "bootstrap": [ { "Kind": "proxy-defaults", "Name": "global", "Config": { "protocol": "http" } } ]
          }
        }
        """;

    [Fact]
    public void An_hcl_file_and_its_json_twin_give_equal_configs()
    {
        var hcl = FromFile("agent.hcl", FullHcl);
        var json = FromFile("agent.json", FullJson);

        Assert.Equal(hcl, json);

        Assert.Equal("node-1", hcl.NodeName);
        Assert.Equal("9f1c7a3e-5b7d-4c2e-8a1f-2b3c4d5e6f70", hcl.NodeId);
        Assert.Equal("east-1", hcl.Datacenter);
        Assert.Equal(new AgentPorts { Http = 8600, Dns = 8700, Grpc = -1 }, hcl.Ports);
        Assert.Equal(["10.0.0.1:8301", "10.0.0.2:9301", "[::1]:8301", "[fe80::1]:8301"], hcl.RetryJoin);
        Assert.Equal(TimeSpan.FromSeconds(90), hcl.RetryInterval);
        Assert.Equal("debug", hcl.LogLevel);
        Assert.True(hcl.UiEnabled);
        Assert.False(hcl.RaftFsync);

        var web = hcl.Services[0];
        Assert.Equal(("web-1", "web"), (web.Id, web.Name));
        Assert.Equal(["v1", "primary"], web.Tags);
        Assert.Equal("1.2", web.Meta["version"]);
        Assert.Equal(new ServiceWeights(3, 1), web.Weights);
        Assert.IsType<JsonObject>(web.Connect!["sidecar_service"]);
        Assert.Null(web.Check);
        Assert.Equal(
            new CheckDefinition { Id = "service:web-1:1", Name = "alive", ServiceId = "web-1", Tcp = "localhost:8080", Interval = TimeSpan.FromSeconds(5), Timeout = TimeSpan.FromSeconds(1) },
            web.Checks[0]);
        Assert.Equal(["1"], web.Checks[1].Header["X-Probe"]);
        Assert.Equal(("ready", "HEAD", true), (web.Checks[1].Id, web.Checks[1].Method, web.Checks[1].TlsSkipVerify));
        Assert.Equal(new ServiceDefinition { Name = "db", Port = 5432 }, hcl.Services[1]);

        Assert.Equal(CheckKind.Script, hcl.Checks[0].Kind);
        Assert.Equal(["/bin/check-disk", "-w", "90"], hcl.Checks[0].Args);
        Assert.Equal(TimeSpan.FromMinutes(90), hcl.Checks[0].DeregisterCriticalServiceAfter);
        Assert.Equal(new CheckDefinition { Name = "heartbeat", Ttl = TimeSpan.FromSeconds(30), Status = "passing" }, hcl.Checks[1]);
        Assert.Equal("heartbeat", hcl.Checks[1].Id);

        var entry = Assert.Single(hcl.ConfigEntriesBootstrap);
        Assert.Equal("proxy-defaults", (string?)entry["Kind"]);
        Assert.Equal("http", (string?)entry["Config"]!["protocol"]);

        Assert.Empty(hcl.Warnings);
        Assert.NotEqual(hcl, json with { Services = [json.Services[0] with { Connect = new JsonObject { ["native"] = true } }, json.Services[1]] });
    }

    [Fact]
    public void Later_files_replace_scalars_and_add_to_lists_and_flags_win_over_all()
    {
        var flags = AgentFlags.Parse(["-data-dir=/data", "-datacenter", "dc3", "-retry-join=10.0.0.9", "-http-port=9500"]);
        var config = FromFiles(
            flags,
            ("1.hcl", "datacenter = \"dc1\"\nnode_name = \"first\"\nlog_level = \"warn\"\nretry_join = [\"10.0.0.1\"]\nservice { name = \"a\" }\nports { http = 1234, dns = 53 }\n"),
            ("2.json", """{ "datacenter": "dc2", "node_name": "second", "retry_join": ["10.0.0.2"], "services": [{ "name": "b" }] }"""));

        Assert.Equal("dc3", config.Datacenter);
        Assert.Equal("second", config.NodeName);
        Assert.Equal("warn", config.LogLevel);
        Assert.Equal(9500, config.Ports.Http);
        Assert.Equal(53, config.Ports.Dns);
        Assert.Equal(["10.0.0.1:8301", "10.0.0.2:8301", "10.0.0.9:8301"], config.RetryJoin);
        Assert.Equal(["a", "b"], config.Services.Select(s => s.Name));
        Assert.Equal("/data", config.DataDir);
    }

    [Fact]
    public void A_config_dir_is_read_in_name_order_between_the_files_named_before_and_after_it()
    {
        var root = Directory.CreateTempSubdirectory("agent-config-");
        try
        {
            var dir = Directory.CreateDirectory(Path.Combine(root.FullName, "conf.d")).FullName;
            File.WriteAllText(Path.Combine(dir, "b.json"), """{ "node_name": "from-b", "services": [{ "name": "b" }] }""");
            File.WriteAllText(Path.Combine(dir, "a.hcl"), "node_name = \"from-a\"\nservice { name = \"a\" }\n");
            File.WriteAllText(Path.Combine(dir, "README.md"), "not a config file");
            Directory.CreateDirectory(Path.Combine(dir, "sub.hcl"));
            var before = Path.Combine(root.FullName, "before.hcl");
            File.WriteAllText(before, "node_name = \"from-before\"\nlog_level = \"error\"\n");
            var after = Path.Combine(root.FullName, "after.json");
            File.WriteAllText(after, """{ "log_level": "trace" }""");

            var config = AgentConfigLoader.Load(["-data-dir", root.FullName, "-config-file", before, "-config-dir", dir, "-config-file=" + after]);

            Assert.Equal("from-b", config.NodeName);
            Assert.Equal("trace", config.LogLevel);
            Assert.Equal(["a", "b"], config.Services.Select(s => s.Name));

            var missing = Assert.Throws<AgentConfigException>(() => AgentConfigLoader.Load(["-dev", "-config-file", Path.Combine(root.FullName, "none.hcl")]));
            Assert.StartsWith($"cannot read config file \"{Path.Combine(root.FullName, "none.hcl")}\"", missing.Message, StringComparison.Ordinal);
            var wrongName = Assert.Throws<AgentConfigException>(() => AgentConfigLoader.Load(["-dev", "-config-file", Path.Combine(dir, "README.md")]));
            Assert.Contains("must end in .hcl or .json", wrongName.Message, StringComparison.Ordinal);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("nodename = \"a\"\nbogus = 1\n", "a.hcl:2:1: unknown field \"bogus\"")]
    [InlineData("ports {\n  http = 1\n  htp = 2\n}\n", "a.hcl:3:3: unknown field \"htp\" in ports")]
    [InlineData("service {\n  name = \"web\"\n  port = \"abc\"\n}\n", "a.hcl:3:10: service.port must be an integer, not \"abc\"")]
    [InlineData("server = \"yes\"", "a.hcl:1:10: server must be true or false, not \"yes\"")]
    [InlineData("node_name = 7", "a.hcl:1:13: node_name must be a string, not 7")]
    [InlineData("retry_interval = \"30x\"", "a.hcl:1:18: retry_interval must be a duration such as \"10s\", \"1m30s\" or \"500ms\", not \"30x\"")]
    [InlineData("ports = [1]", "a.hcl:1:9: ports must be a block, not a list")]
    [InlineData("node_name = \"a\"\nNodeName = \"b\"", "a.hcl:2:1: \"NodeName\" and \"node_name\" are the same setting, node_name")]
    [InlineData("node_name = \"web.1\"", "a.hcl:1:13: node_name \"web.1\" is not valid in DNS: at most 63 letters, digits and '-'")]
    [InlineData("datacenter = \"dc 1\"", "a.hcl:1:14: datacenter \"dc 1\" can only have lower-case letters, digits, '-' and '_'")]
    [InlineData("node_id = \"abc\"", "a.hcl:1:11: node_id \"abc\" is not a UUID (as in 9f1c7a3e-5b7d-4c2e-8a1f-2b3c4d5e6f70)")]
    [InlineData("ports {\n  http = 70000\n}", "a.hcl:2:10: ports.http must be 0 to 65535 (or -1 to turn it off), not 70000")]
    [InlineData("ports { server = -1 }", "a.hcl:1:18: ports.server must be 0 to 65535, not -1")]
    [InlineData("ports { grpc = 8500 }", "a.hcl:1:16: ports.grpc and ports.http are both 8500")]
    [InlineData("ports { actors = -1 }", "a.hcl:1:18: ports.actors must be 0 to 65535, not -1")]
    [InlineData("ports { actors = 8301 }", "a.hcl:1:18: ports.actors and ports.serf_lan are both 8301")]
    [InlineData("bootstrap_expect = 3", "a.hcl:1:20: bootstrap_expect = 3 needs server mode (server = true or -server)")]
    [InlineData("server = true\nbootstrap = true\nbootstrap_expect = 3", "a.hcl:3:20: bootstrap_expect and bootstrap cannot both be set: bootstrap is a server that elects itself")]
    [InlineData("bootstrap = true", "a.hcl:1:13: bootstrap = true needs server mode (server = true or -server)")]
    [InlineData("bind_addr = \"{{ GetPrivateIP }}\"", "a.hcl:1:13: bind_addr \"{{ GetPrivateIP }}\" is a go-sockaddr template, which this agent does not expand: give an IP address")]
    [InlineData("advertise_addr = \"0.0.0.0\"", "a.hcl:1:18: advertise_addr cannot be 0.0.0.0: others need an address they can reach")]
    [InlineData("client_addr = \"127.0.0.1 localhost\"", "a.hcl:1:15: client_addr \"localhost\" is not an IP address")]
    [InlineData("encrypt = \"c2hvcnQ=\"", "a.hcl:1:11: encrypt is not a gossip key: it must be the base64 of 16, 24 or 32 bytes (cluster keygen makes one)")]
    [InlineData("log_level = \"loud\"", "a.hcl:1:13: log_level must be one of trace, debug, info, warn, error, not \"loud\"")]
    [InlineData("retry_join = [\"a:1\", \"b:http\"]", "a.hcl:1:22: retry_join: \"b:http\" has a bad port (1 to 65535)")]
    [InlineData("retry_join_wan = [\"10.0.0.1\"]", "a.hcl:1:19: retry_join_wan needs server mode: only servers gossip over the WAN")]
    [InlineData("service {\n  port = 80\n}", "a.hcl:1:9: a service needs a name")]
    [InlineData("service {\n  name = \"web\"\n  kind = \"proxy\"\n}", "a.hcl:3:10: service.kind must be one of connect-proxy, mesh-gateway, terminating-gateway, ingress-gateway, api-gateway (or left out), not \"proxy\"")]
    [InlineData("service {\n  name = \"p\"\n  kind = \"connect-proxy\"\n  port = 21000\n}", "a.hcl:1:9: a connect-proxy service needs proxy { destination_service_name = \"...\" }")]
    [InlineData("service {\n  name = \"web\"\n  weights { passing = 0 }\n}", "a.hcl:3:23: service.weights.passing must be at least 1, not 0")]
    [InlineData("service {\n  name = \"web\"\n  check { http = \"http://x\" }\n}", "a.hcl:3:18: a http check needs an interval")]
    [InlineData("service {\n  name = \"web\"\n  check { ttl = \"10s\", interval = \"5s\" }\n}", "a.hcl:3:35: service.check.interval does not apply to a ttl check")]
    [InlineData("service {\n  name = \"web\"\n  check { tcp = \"x:1\", http = \"http://x\", interval = \"1s\" }\n}", "a.hcl:3:17: a check is of one kind: http and tcp are both set")]
    [InlineData("service {\n  name = \"web\"\n  check {}\n}", "a.hcl:3:9: a check needs one of args (a script), http, tcp, grpc, ttl or alias_service")]
    [InlineData("service {\n  name = \"web\"\n  check { name = \"a\" }\n  check { name = \"b\" }\n}", "a.hcl:4:3: a service has one check block: write several as checks = [ ... ]")]
    [InlineData("service {\n  name = \"web\"\n  colour = \"red\"\n}", "a.hcl:3:3: unknown field \"colour\" in service")]
    [InlineData("check {\n  ttl = \"10s\"\n}", "a.hcl:1:7: a check needs a name")]
    [InlineData("check {\n  name = \"x\"\n  ttl = \"10s\"\n  failures_before_warning = -1\n}", "a.hcl:4:29: check.failures_before_warning cannot be negative, not -1")]
    [InlineData("check {\n  name = \"x\"\n  ttl = \"10s\"\n  status = \"ok\"\n}", "a.hcl:4:12: check.status must be passing, warning or critical, not \"ok\"")]
    [InlineData("check {\n  name = \"x\"\n  args = [\"/bin/true\"]\n  interval = \"10s\"\n}", "a.hcl:3:10: script checks (args) are off on this agent: set enable_script_checks = true or -enable-script-checks to run them")]
    [InlineData("service { name = \"web\" }\nservice { name = \"web\" }", "a.hcl:2:9: service id \"web\" is defined twice (first at a.hcl:1:9): give one an id of its own")]
    [InlineData("config_entries {\n  bootstrap = [{ Name = \"global\" }]\n}", "a.hcl:2:16: a config entry needs a Kind")]
    [InlineData("config_entries {\n  bootstrap { kind = \"service-defaults\" }\n}", "a.hcl:2:13: a config entry needs a Name")]
    public void A_bad_value_in_a_file_is_an_error_at_its_file_line_and_column(string text, string message)
    {
        var error = Assert.Throws<ConfigException>(() => FromFile("a.hcl", text));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void A_check_reads_its_body_and_warning_threshold()
    {
        var config = FromFile("a.hcl", "check {\n  name = \"api\"\n  http = \"http://localhost/\"\n  method = \"POST\"\n  body = \"{}\"\n  interval = \"10s\"\n  failures_before_warning = 1\n  failures_before_critical = 3\n}");

        var check = Assert.Single(config.Checks);
        Assert.Equal(("{}", 1, 3), (check.Body, check.FailuresBeforeWarning, check.FailuresBeforeCritical));
        Assert.Null(FromFile("b.hcl", "check {\n  name = \"x\"\n  ttl = \"10s\"\n}").Checks[0].FailuresBeforeWarning);
    }

    [Fact]
    public void Json_errors_name_their_place_too()
    {
        var error = Assert.Throws<ConfigException>(() => FromFile("a.json", "{\n  \"services\": [\n    { \"Name\": \"web\", \"Port\": \"abc\" }\n  ]\n}"));
        Assert.Equal("a.json:3:30: service.port must be an integer, not \"abc\"", error.Message);

        var unknown = Assert.Throws<ConfigException>(() => FromFile("a.json", "{\n  \"node_name\": \"a\",\n  \"nodes\": 1\n}"));
        Assert.Equal("a.json:3:3: unknown field \"nodes\"", unknown.Message);
    }

    [Fact]
    public void A_bad_value_is_blamed_on_the_source_that_set_it_last()
    {
        // The file's bad port is replaced by the flag's good one.
        var config = FromFiles(AgentFlags.Parse(["-data-dir=/d", "-http-port=8080"]), ("a.hcl", "ports { http = 0 }"));
        Assert.Equal(8080, config.Ports.Http);

        var fromFlag = Assert.Throws<AgentConfigException>(() => FromFiles(AgentFlags.Parse(["-data-dir=/d", "-http-port=70000"]), ("a.hcl", "ports { http = 80 }")));
        Assert.Equal("flag -http-port: ports.http must be 0 to 65535 (or -1 to turn it off), not 70000", fromFlag.Message);

        var inDev = Assert.Throws<ConfigException>(() => FromFiles(AgentFlags.Parse(["-dev"]), ("a.hcl", "\nbootstrap_expect = 3")));
        Assert.Equal("a.hcl:2:20: bootstrap_expect = 3 is not allowed in dev mode, where the server elects itself", inDev.Message);

        var devFlag = Assert.Throws<AgentConfigException>(() => AgentConfigLoader.Load(["-dev", "-bootstrap-expect=3"]));
        Assert.Equal("flag -bootstrap-expect: bootstrap_expect = 3 is not allowed in dev mode, where the server elects itself", devFlag.Message);

        var noDataDir = Assert.Throws<AgentConfigException>(() => AgentConfigLoader.Load([]));
        Assert.Equal("data_dir cannot be empty", noDataDir.Message);

        var badNode = Assert.Throws<AgentConfigException>(() => AgentConfigLoader.Load(["-dev", "-node", "a_b"]));
        Assert.Equal("flag -node: node_name \"a_b\" is not valid in DNS: at most 63 letters, digits and '-'", badNode.Message);

        // A check's ID clashes across files; the second one is blamed, the first one named.
        var twice = Assert.Throws<ConfigException>(() => FromFiles(WithDataDir, ("1.hcl", "check {\n  name = \"mem\"\n  ttl = \"1m\"\n}"), ("2.json", "{\"checks\": [{\"name\": \"mem\", \"ttl\": \"1m\"}]}")));
        Assert.Equal("2.json:1:13: check id \"mem\" is defined twice (first at 1.hcl:1:7): give one an id of its own", twice.Message);
    }

    [Fact]
    public void Bootstrap_expect_warns_where_the_cluster_would_not_tolerate_a_failure()
    {
        var two = AgentConfigLoader.Load(["-data-dir=/d", "-server", "-bootstrap-expect=2"]);
        Assert.Equal(2, two.BootstrapExpect);
        Assert.Contains("no failure", Assert.Single(two.Warnings), StringComparison.Ordinal);

        var four = AgentConfigLoader.Load(["-data-dir=/d", "-server", "-bootstrap-expect=4"]);
        Assert.Contains("even number", Assert.Single(four.Warnings), StringComparison.Ordinal);

        var one = AgentConfigLoader.Load(["-data-dir=/d", "-server", "-bootstrap-expect=1"]);
        Assert.Equal((0, true), (one.BootstrapExpect, one.Bootstrap));
        Assert.Contains("elects itself", Assert.Single(one.Warnings), StringComparison.Ordinal);

        Assert.Empty(AgentConfigLoader.Load(["-data-dir=/d", "-server", "-bootstrap-expect=3"]).Warnings);
    }

    [Fact]
    public void Script_checks_run_only_when_enabled()
    {
        const string text = "service {\n  name = \"db\"\n  check { args = [\"/bin/pg_isready\"], interval = \"10s\" }\n}";
        var error = Assert.Throws<ConfigException>(() => FromFile("s.hcl", text));
        Assert.Equal((3, 18), (error.Line, error.Column));

        var config = FromFiles(WithDataDir with { EnableScriptChecks = true }, ("s.hcl", text));
        Assert.Equal(CheckKind.Script, config.Services[0].Check!.Kind);
    }
}
