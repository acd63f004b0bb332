namespace Cluster.Agent.Config;

/// <summary>Consul's names for the agent's settings, as fragments and messages use them.</summary>
internal static class SettingNames
{
    public const string NodeName = "node_name";
    public const string NodeId = "node_id";
    public const string Datacenter = "datacenter";
    public const string DataDir = "data_dir";
    public const string Server = "server";
    public const string BootstrapExpect = "bootstrap_expect";
    public const string Bootstrap = "bootstrap";
    public const string BindAddr = "bind_addr";
    public const string AdvertiseAddr = "advertise_addr";
    public const string ClientAddr = "client_addr";
    public const string HttpPort = "ports.http";
    public const string HttpsPort = "ports.https";
    public const string GrpcPort = "ports.grpc";
    public const string DnsPort = "ports.dns";
    public const string ServerPort = "ports.server";
    public const string SerfLanPort = "ports.serf_lan";
    public const string SerfWanPort = "ports.serf_wan";
    public const string ActorsPort = "ports.actors";
    public const string RetryJoin = "retry_join";
    public const string RetryJoinWan = "retry_join_wan";
    public const string RetryInterval = "retry_interval";
    public const string RetryIntervalWan = "retry_interval_wan";
    public const string Encrypt = "encrypt";
    public const string LogLevel = "log_level";
    public const string UiEnabled = "ui_config.enabled";
    public const string EnableScriptChecks = "enable_script_checks";
    public const string RaftFsync = "raft_fsync";
    public const string Services = "services";
    public const string Checks = "checks";
    public const string ConfigEntriesBootstrap = "config_entries.bootstrap";

    /// <summary>Where script checks were written, to refuse them unless enable_script_checks is on.</summary>
    public const string ScriptChecks = "script checks";
}
