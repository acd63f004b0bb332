using Cluster.Agent.Config;

namespace Cluster.Tests.Agent;

public sealed class AgentFlagsTests
{
    [Fact]
    public void Reads_consuls_flags_in_gos_syntax()
    {
        var flags = AgentFlags.Parse(
        [
            "-server", "--bootstrap-expect=3", "-node", "web-1", "-node-id=9f1c7a3e-5b7d-4c2e-8a1f-2b3c4d5e6f70",
            "-datacenter", "east", "-data-dir=/var/lib/cluster", "-bind=10.0.0.5", "-advertise", "10.0.0.6", "-client=0.0.0.0",
            "-retry-join", "10.0.0.1", "-join=10.0.0.2", "-retry-join", "10.0.0.3", "-retry-join-wan=10.1.0.1",
            "-retry-interval=1m", "-encrypt", "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=",
            "-http-port=8501", "-dns-port", "53", "-grpc-port=-1", "-server-port=8310", "-serf-lan-port=8311", "-serf-wan-port=8312", "-actors-port=8313",
            "-config-file=/etc/a.hcl", "-config-dir", "/etc/conf.d", "-config-file", "/etc/z.json",
            "-log-level=debug", "-ui", "-enable-script-checks=false", "-bootstrap=0",
        ]);

        Assert.Equal(
            new AgentFlags
            {
                Server = true,
                BootstrapExpect = 3,
                NodeName = "web-1",
                NodeId = "9f1c7a3e-5b7d-4c2e-8a1f-2b3c4d5e6f70",
                Datacenter = "east",
                DataDir = "/var/lib/cluster",
                BindAddr = "10.0.0.5",
                AdvertiseAddr = "10.0.0.6",
                ClientAddr = "0.0.0.0",
                RetryJoin = ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
                RetryJoinWan = ["10.1.0.1"],
                RetryInterval = TimeSpan.FromMinutes(1),
                Encrypt = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=",
                HttpPort = 8501,
                DnsPort = 53,
                GrpcPort = -1,
                ServerPort = 8310,
                SerfLanPort = 8311,
                SerfWanPort = 8312,
                ActorsPort = 8313,
                ConfigPaths = ["/etc/a.hcl", "/etc/conf.d", "/etc/z.json"],
                LogLevel = "debug",
                Ui = true,
                EnableScriptChecks = false,
                Bootstrap = false,
            },
            flags);
    }

    [Fact]
    public void Flags_left_out_leave_the_choice_to_the_files()
    {
        var flags = AgentFlags.Parse(["-dev"]);
        Assert.Equal(new AgentFlags { Dev = true }, flags);
        Assert.Null(flags.Server);
        Assert.Null(flags.HttpPort);
        Assert.Empty(flags.RetryJoin);
        Assert.Equal(new AgentFlags(), AgentFlags.Parse([]));
    }

    [Fact]
    public void Flags_become_the_configuration_over_the_defaults()
    {
        var config = AgentConfigLoader.Load(["-data-dir=/d", "-server", "-bootstrap-expect", "3", "-retry-join=10.0.0.1", "-join", "[::1]:9000", "-serf-lan-port=9301", "-ui", "-grpc-port=-1", "-retry-interval=500ms"]);

        Assert.True(config.Server);
        Assert.Equal(3, config.BootstrapExpect);
        Assert.Equal(["10.0.0.1:9301", "[::1]:9000"], config.RetryJoin);
        Assert.True(config.UiEnabled);
        Assert.Equal(AgentPorts.Disabled, config.Ports.Grpc);
        Assert.Equal(TimeSpan.FromMilliseconds(500), config.RetryInterval);
    }

    [Theory]
    [InlineData("flag provided but not defined: -foo", "-foo")]
    [InlineData("flag provided but not defined: -foo", "--foo=1")]
    [InlineData("invalid value \"x\" for flag -http-port: parse error", "-http-port=x")]
    [InlineData("invalid value \"99999999999\" for flag -http-port: value out of range", "-http-port", "99999999999")]
    [InlineData("invalid value \"soon\" for flag -retry-interval: parse error", "-retry-interval=soon")]
    [InlineData("invalid boolean value \"yes\" for -server: parse error", "-server=yes")]
    [InlineData("flag needs an argument: -node", "-dev", "-node")]
    [InlineData("bad flag syntax: ---node", "---node")]
    [InlineData("bad flag syntax: -=x", "-=x")]
    [InlineData("unexpected argument \"agent\": the agent takes only flags (see -help)", "-dev", "agent")]
    [InlineData("unexpected argument \"false\": the agent takes only flags (see -help)", "-server", "false")]
    [InlineData("unexpected argument \"-x\": the agent takes only flags (see -help)", "--", "-x")]
    public void A_bad_command_line_is_an_error_saying_what_is_wrong(string message, params string[] args)
    {
        var error = Assert.Throws<AgentConfigException>(() => AgentFlags.Parse(args));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Help_is_asked_for_not_failed_on()
    {
        Assert.True(AgentFlags.Parse(["-h"]).Help);
        Assert.True(AgentFlags.Parse(["--help"]).Help);
        Assert.Contains("\n  -retry-join=<value>\n", AgentFlags.Usage, StringComparison.Ordinal);
        Assert.Contains("\n  -dev\n", AgentFlags.Usage, StringComparison.Ordinal);
    }

    [Fact]
    public void The_gossip_key_is_never_printed()
    {
        const string key = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=";
        var flags = AgentFlags.Parse(["-dev", "-encrypt", key]);
        var config = AgentConfigLoader.Load(flags);

        Assert.Equal(key, config.Encrypt);
        Assert.DoesNotContain(key, flags.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(key, config.ToString(), StringComparison.Ordinal);
        Assert.StartsWith("AgentConfig { NodeName = ", config.ToString(), StringComparison.Ordinal);
        Assert.Contains("Encrypt = (hidden), ", config.ToString(), StringComparison.Ordinal);
    }
}
